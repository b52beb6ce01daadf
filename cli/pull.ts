import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { REGISTRY_FLAG_HELP, REGISTRY_FLAG_OPTIONS, registryOptions } from '../oci/client-config.js';
import { formatReference, parseReference, pinned } from '../oci/reference.js';
import { RegistrySource } from '../oci/source.js';
import { ROOT_FLAG_HELP, ROOT_FLAG_OPTIONS, policyInput, rootsInput, writeOutput } from '../trust/signing/files.js';
import { checkNamespace, compilePolicy } from '../trust/signing/policy.js';
import { compileRoots } from '../trust/signing/roots.js';
import { describeSigner, verifyComponent } from '../trust/signing/verify.js';
import type { Command } from './main.js';
import { progress, QUIET_BELOW_BYTES } from './progress.js';

const HELP = `usage: berth pull oci://registry/repo[:VERSION|@sha256:…] [options]

Resolves the tag to a digest, pulls by digest (every digest checked) and writes the component
with its attached bundles (<out>.sig.json, <out>.att.json, numbered when there are several).
With --policy or --key, nothing is written unless the component verifies.

  --out <file>           component file (default: <repo name>.wasm)
  --policy <file>        vendor trust policy (JSON) to verify against
  --key <file>           vendor public key, repeatable (instead of --policy)
${ROOT_FLAG_HELP}
${REGISTRY_FLAG_HELP}`;

const OPTIONS = {
  out: { type: 'string' },
  policy: { type: 'string' },
  key: { type: 'string', multiple: true },
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
      process.stderr.write(`berth pull: give one oci:// reference\n\n${HELP}\n`);
      return 2;
    }
    const ref = parseReference(positionals[0]!);
    const policy = values.policy || values.key ? compilePolicy(await policyInput(values)) : undefined;
    const rootsSpec = await rootsInput(values);
    const roots = rootsSpec ? compileRoots(rootsSpec) : undefined;
    if (policy) checkNamespace(policy, ref.registry, ref.repository);
    const options = await registryOptions(values);
    const source = new RegistrySource(() => options);
    const digest = await source.resolve(ref);
    const shown = progress(`pulling ${basename(ref.repository)}`, { unit: 'bytes', quietBelow: QUIET_BELOW_BYTES });
    const artifact = await source.fetch({ ...pinned(ref, digest), digest }, shown.update);
    shown.finish();
    const verified = policy ? verifyComponent(policy, artifact.component, artifact.bundles, roots) : undefined;

    const out = values.out ?? `${basename(ref.repository)}.wasm`;
    await writeOutput(out, artifact.component, 'component');
    const counters = { 'message-signature': 0, 'dsse-envelope': 0 };
    for (const b of artifact.bundles) {
      const n = counters[b.kind]++;
      const suffix = b.kind === 'message-signature' ? 'sig' : 'att';
      await writeOutput(`${out}.${suffix}${n ? `.${n}` : ''}.json`, b.bytes, 'bundle');
    }
    process.stdout.write(
      `pulled ${formatReference(pinned(ref, digest))}\n  component ${artifact.componentDigest} → ${out}\n  bundles ${artifact.bundles.length}\n` +
        (verified
          ? `  verified: signed by vendor '${verified.vendor}' ${describeSigner(verified.signer)}${verified.provenance ? `, built by ${verified.provenance.builderId}` : ''}\n`
          : ''),
    );
    return 0;
  },
};
