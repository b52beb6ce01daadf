import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sha256Digest } from '../common/digest.js';
import { REGISTRY_FLAG_HELP, REGISTRY_FLAG_OPTIONS, registryOptions } from '../oci/client-config.js';
import { formatReference, parseReference, pinned } from '../oci/reference.js';
import { RegistrySource } from '../oci/source.js';
import { ROOT_FLAG_HELP, ROOT_FLAG_OPTIONS, attestationPathFor, policyInput, readInput, rootsInput, signaturePathFor } from '../trust/signing/files.js';
import { checkNamespace, compilePolicy } from '../trust/signing/policy.js';
import { compileRoots } from '../trust/signing/roots.js';
import { describeSigner, verifyComponent, type BundleBytes } from '../trust/signing/verify.js';
import type { Command } from './main.js';

const HELP = `usage: berth verify <component.wasm | oci://…> (--policy <file> | --key <vendor.pub>…) [options]

Verifies offline that the component is signed by the vendor (and meets the policy's provenance
requirements). Exit status 0 when it verifies, 1 when it is refused (the reason is printed).

  --policy <file>        vendor trust policy (JSON): {vendor, publicKeys[], identities[{subject, issuer}], require?}
  --key <file>           vendor public key, repeatable (instead of --policy)
  --vendor <name>        vendor name used with --key (default: vendor)
  --signature <file>     local component: signature bundle (default: <component>.sig.json)
  --attestation <file>   local component: attestation bundle, repeatable (default: <component>.att.json)
${ROOT_FLAG_HELP}
${REGISTRY_FLAG_HELP}`;

const OPTIONS = {
  policy: { type: 'string' },
  key: { type: 'string', multiple: true },
  vendor: { type: 'string' },
  signature: { type: 'string' },
  attestation: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  ...REGISTRY_FLAG_OPTIONS,
  ...ROOT_FLAG_OPTIONS,
} as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: OPTIONS,
    });
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (positionals.length !== 1) {
      process.stderr.write(`berth verify: give one component file or oci:// reference\n\n${HELP}\n`);
      return 2;
    }
    const policy = compilePolicy(await policyInput(values));
    const rootsSpec = await rootsInput(values);
    const roots = rootsSpec ? compileRoots(rootsSpec) : undefined;
    const target = positionals[0]!;
    let component: Uint8Array;
    let bundles: BundleBytes[];
    let label: string;
    if (target.startsWith('oci://')) {
      const ref = parseReference(target);
      checkNamespace(policy, ref.registry, ref.repository);
      const options = await registryOptions(values);
      const source = new RegistrySource(() => options);
      const digest = await source.resolve(ref);
      const artifact = await source.fetch({ ...pinned(ref, digest), digest });
      component = artifact.component;
      bundles = artifact.bundles;
      label = formatReference(pinned(ref, digest));
    } else {
      component = await readInput(target, 'component');
      bundles = [];
      const sig = values.signature ?? (existsSync(signaturePathFor(target)) ? signaturePathFor(target) : undefined);
      if (sig) bundles.push({ kind: 'message-signature', bytes: await readInput(sig, 'signature bundle', 1024 * 1024) });
      for (const a of values.attestation ?? (existsSync(attestationPathFor(target)) ? [attestationPathFor(target)] : [])) {
        bundles.push({ kind: 'dsse-envelope', bytes: await readInput(a, 'attestation bundle', 1024 * 1024) });
      }
      label = `${target} (${sha256Digest(component)})`;
    }
    const result = verifyComponent(policy, component, bundles, roots);
    process.stdout.write(
      `verified ${label}\n  vendor ${result.vendor}, ${describeSigner(result.signer)}\n` +
        (result.provenance
          ? `  provenance: builder ${result.provenance.builderId}${result.provenance.sourceRepository ? `, source ${result.provenance.sourceRepository}` : ''}\n`
          : ''),
    );
    return 0;
  },
};
