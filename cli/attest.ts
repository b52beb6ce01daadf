import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import { sha256Digest } from '../common/digest.js';
import { loadPrivateKey } from '../trust/signing/keys.js';
import { attestationPathFor, readInput, sbomPathFor, writeOutput } from '../trust/signing/files.js';
import { provenanceStatement, type ProvenanceInput } from '../trust/signing/provenance.js';
import { serializeBundle, signStatement } from '../trust/signing/sign.js';
import { BerthError } from '../common/errors.js';
import { CYCLONEDX_BOM_PREDICATE } from '../trust/signing/sbom-attestation.js';
import { statementAbout } from '../trust/signing/statement.js';
import type { Command } from './main.js';
import { LINK_OPTIONS, runLink } from './attest-link.js';

/** A CycloneDX JSON document, checked only for what it claims to be: the control plane reads it in full. */
async function readSbom(path: string): Promise<unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse((await readInput(path, 'SBOM', 16 * 1024 * 1024)).toString('utf8'));
  } catch (err) {
    throw new BerthError('sbom.invalid', `${path} is not JSON: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || (doc as { bomFormat?: unknown }).bomFormat !== 'CycloneDX') {
    throw new BerthError('sbom.invalid', `${path} is not a CycloneDX JSON SBOM (no bomFormat: CycloneDX)`);
  }
  return doc;
}

const HELP = `usage: berth attest <component.wasm> --key <vendor.key> --builder-id <uri> [options]
       berth attest <component.wasm> --key <vendor.key> --sbom <sbom.cdx.json> [--out <file>]
       berth attest link --step <name> --key <functionary.key> [...] oci://…   (berth attest link --help)

Writes an in-toto statement (subject: the component's SHA-256) with a SLSA provenance v1
predicate, or with --sbom a CycloneDX SBOM (predicate https://cyclonedx.org/bom, as berth sbom
writes it), in a DSSE envelope signed by the vendor key, as a Sigstore bundle.

  --key <file>              vendor private key
  --builder-id <uri>        who built it (runDetails.builder.id)
  --source-repo <uri>       source repository (buildDefinition.externalParameters.source.uri)
  --source-revision <rev>   commit of the source
  --build-type <uri>        buildType (default: https://berth.dev/build/wasm-component/v1)
  --sbom <file>             sign this CycloneDX JSON SBOM instead (default out: <component>.sbom.json)
  --out <file>              bundle file (default: <component>.att.json)`;

const OPTIONS = {
  key: { type: 'string' },
  'builder-id': { type: 'string' },
  'source-repo': { type: 'string' },
  'source-revision': { type: 'string' },
  'build-type': { type: 'string' },
  sbom: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const command: Command = {
  // `link` is the one subcommand; without it the first operand is the component to attest.
  subcommands: ['link'],
  options: OPTIONS,
  subcommandOptions: { link: LINK_OPTIONS },
  async run(argv) {
    // A step's in-toto link for the vendor's layout: its own flags, and it goes straight to the registry.
    if (argv[0] === 'link') return runLink(argv.slice(1));
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: OPTIONS,
    });
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    const missing =
      positionals.length !== 1
        ? 'give exactly one component file'
        : !values.key
          ? '--key is required'
          : !values['builder-id'] && !values.sbom
            ? '--builder-id is required'
            : undefined;
    if (missing) {
      process.stderr.write(`berth attest: ${missing}\n\n${HELP}\n`);
      return 2;
    }
    const componentPath = positionals[0]!;
    const component = await readInput(componentPath, 'component');
    const key = loadPrivateKey((await readInput(values.key!, 'signing key', 64 * 1024)).toString('utf8'), `signing key ${values.key}`);
    if (values.sbom) {
      const digest = sha256Digest(component);
      const bom = await readSbom(values.sbom);
      const out = values.out ?? sbomPathFor(componentPath);
      await writeOutput(out, serializeBundle(signStatement(statementAbout(basename(componentPath), digest, CYCLONEDX_BOM_PREDICATE, bom), key)), 'SBOM bundle');
      process.stdout.write(`signed the SBOM of ${digest} (${values.sbom}) → ${out}\n`);
      return 0;
    }
    const input: ProvenanceInput = { name: basename(componentPath), digest: sha256Digest(component), builderId: values['builder-id']!, finishedOn: new Date() };
    if (values['source-repo']) input.sourceRepository = values['source-repo'];
    if (values['source-revision']) input.sourceRevision = values['source-revision'];
    if (values['build-type']) input.buildType = values['build-type'];
    const out = values.out ?? attestationPathFor(componentPath);
    await writeOutput(out, serializeBundle(signStatement(provenanceStatement(input), key)), 'attestation bundle');
    process.stdout.write(`attested ${input.digest} (builder ${input.builderId}) → ${out}\n`);
    return 0;
  },
};
