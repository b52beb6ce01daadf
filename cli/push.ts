import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sha256Digest } from '../common/digest.js';
import { BerthError } from '../common/errors.js';
import { pushComponent, type AttachedBundle } from '../oci/artifact.js';
import { RegistryClient } from '../oci/client.js';
import { REGISTRY_FLAG_HELP, REGISTRY_FLAG_OPTIONS, registryOptions } from '../oci/client-config.js';
import { formatReference, parseReference, pinned } from '../oci/reference.js';
import { attestationPathFor, readInput, sbomPathFor, signaturePathFor } from '../trust/signing/files.js';
import { CYCLONEDX_BOM_PREDICATE } from '../trust/signing/sbom-attestation.js';
import { checkSubject, readStatement } from '../trust/signing/statement.js';
import type { Digest } from '../common/digest.js';
import { parseBundle } from '../trust/signing/verify-bundle.js';
import { SLSA_PROVENANCE_V1 } from '../trust/signing/provenance.js';
import type { Command } from './main.js';
import { progress, QUIET_BELOW_BYTES } from './progress.js';

const HELP = `usage: berth push <component.wasm> oci://registry/repo:VERSION [options]

Pushes the component as an OCI artifact (wasm config, application/wasm layer) and attaches its
signature and attestations as OCI 1.1 referrers, plus the sha256-<digest> referrers tag for
registries without the referrers API. VERSION is SemVer without a leading 'v', '_' for '+'.

  --signature <file>     signature bundle (default: <component>.sig.json; required)
  --attestation <file>   attestation bundle, repeatable (default: <component>.att.json if present)
  --sbom <file>          the SBOM as berth attest --sbom signed it (default: <component>.sbom.json
                         if present); admission reads it, and advisories match its packages
  --unsigned             push without a signature (admission will refuse it)
${REGISTRY_FLAG_HELP}`;

const OPTIONS = {
  signature: { type: 'string' },
  attestation: { type: 'string', multiple: true },
  sbom: { type: 'string' },
  unsigned: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...REGISTRY_FLAG_OPTIONS,
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
    if (positionals.length !== 2) {
      process.stderr.write(`berth push: give a component file and an oci:// reference\n\n${HELP}\n`);
      return 2;
    }
    const [componentPath, refText] = positionals as [string, string];
    const ref = parseReference(refText);
    if (!ref.tag || ref.digest) throw new BerthError('cli.usage', `push needs a version tag and no digest: oci://${ref.registry}/${ref.repository}:VERSION`);
    const component = await readInput(componentPath, 'component');
    const digest = sha256Digest(component);

    const bundles: AttachedBundle[] = [];
    const signaturePath = values.signature ?? (existsSync(signaturePathFor(componentPath)) ? signaturePathFor(componentPath) : undefined);
    if (signaturePath) {
      const bytes = await readInput(signaturePath, 'signature bundle', 1024 * 1024);
      const bundle = parseBundle(bytes, `signature bundle ${signaturePath}`);
      if (bundle.content.$case !== 'messageSignature') throw new BerthError('signing.bad-bundle', `${signaturePath} is not a signature bundle`);
      const signed = `sha256:${Buffer.from(bundle.content.messageSignature.messageDigest.digest).toString('hex')}`;
      if (signed !== digest) throw new BerthError('signing.digest-mismatch', `${signaturePath} signs ${signed}, not ${componentPath} (${digest})`);
      bundles.push({ kind: 'message-signature', bytes });
    } else if (!values.unsigned) {
      throw new BerthError('signing.unsigned', `no signature for ${componentPath}: run berth sign first, or pass --unsigned`);
    }
    const attestationPaths = values.attestation ?? (existsSync(attestationPathFor(componentPath)) ? [attestationPathFor(componentPath)] : []);
    for (const path of attestationPaths) {
      const bytes = await readInput(path, 'attestation bundle', 1024 * 1024);
      if (parseBundle(bytes, `attestation bundle ${path}`).content.$case !== 'dsseEnvelope')
        throw new BerthError('signing.bad-bundle', `${path} is not a DSSE attestation bundle`);
      bundles.push({ kind: 'dsse-envelope', predicateType: SLSA_PROVENANCE_V1, bytes });
    }
    const sbomPath = values.sbom ?? (existsSync(sbomPathFor(componentPath)) ? sbomPathFor(componentPath) : undefined);
    if (sbomPath) bundles.push(await sbomBundle(sbomPath, digest));

    const client = new RegistryClient(ref.registry, await registryOptions(values));
    const shown = progress(`pushing ${componentPath}`, { unit: 'bytes', quietBelow: QUIET_BELOW_BYTES });
    const pushed = await pushComponent(client, ref.repository, ref.tag, component, bundles, { component: shown.update });
    shown.finish();
    process.stdout.write(
      `pushed ${formatReference(ref)}\n  pinned ${formatReference(pinned(ref, pushed.manifestDigest))}\n  component ${pushed.componentDigest}\n  attached ${bundles.length} bundle(s)\n`,
    );
    return 0;
  },
};

/** A signed SBOM bundle about this very component, checked before anything is pushed (admission verifies the signature). */
async function sbomBundle(path: string, digest: Digest): Promise<AttachedBundle> {
  const bytes = await readInput(path, 'SBOM bundle', 1024 * 1024);
  const bundle = parseBundle(bytes, `SBOM bundle ${path}`);
  if (bundle.content.$case !== 'dsseEnvelope') throw new BerthError('signing.bad-bundle', `${path} is not a signed SBOM: sign it with berth attest --sbom`);
  const statement = readStatement(Buffer.from(bundle.content.dsseEnvelope.payload), 'sbom');
  if (statement.predicateType !== CYCLONEDX_BOM_PREDICATE)
    throw new BerthError('sbom.invalid', `${path} is an attestation of ${statement.predicateType}, not a CycloneDX SBOM`);
  checkSubject(statement, digest, 'sbom', `${path}`);
  return { kind: 'dsse-envelope', predicateType: CYCLONEDX_BOM_PREDICATE, bytes };
}
