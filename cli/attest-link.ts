import { parseArgs } from 'node:util';
import { isDigest, sha256Digest } from '../common/digest.js';
import { BerthError } from '../common/errors.js';
import { attachToComponent } from '../oci/artifact.js';
import { RegistryClient } from '../oci/client.js';
import { REGISTRY_FLAG_HELP, REGISTRY_FLAG_OPTIONS, registryOptions } from '../oci/client-config.js';
import { formatReference, parseReference } from '../oci/reference.js';
import { IN_TOTO_LINK_V03, linkStatement, type NamedDigest } from '../trust/in-toto/link.js';
import { loadPrivateKey } from '../trust/signing/keys.js';
import { readInput, writeOutput } from '../trust/signing/files.js';
import { serializeBundle, signStatement } from '../trust/signing/sign.js';

export const LINK_HELP = `usage: berth attest link --step <name> --key <functionary.key> [--material A]... [--product A]... oci://registry/repo:VERSION|@sha256:…

Signs an in-toto link (predicate ${IN_TOTO_LINK_V03}) for one step of the vendor's
in-toto layout, in a DSSE envelope with the functionary's key, and attaches it to the component
in the registry as an OCI referrer; admission checks it against the layout (docs/in-toto.md).
An artifact A is a file (its SHA-256, named by the path as given) or name=sha256:<hex>.

  --step <name>        the layout step this link is evidence for
  --key <file>         the functionary's private key (ECDSA P-256, berth keygen)
  --material <A>       what the step used, repeatable
  --product <A>        what the step made, repeatable
  --out <file>         also write the bundle here
${REGISTRY_FLAG_HELP}`;

export const LINK_OPTIONS = {
  step: { type: 'string' },
  key: { type: 'string' },
  material: { type: 'string', multiple: true },
  product: { type: 'string', multiple: true },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...REGISTRY_FLAG_OPTIONS,
} as const;

export async function runLink(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: LINK_OPTIONS });
  if (values.help) {
    process.stdout.write(LINK_HELP + '\n');
    return 0;
  }
  const missing =
    positionals.length !== 1 ? 'give exactly one oci:// reference' : !values.step ? '--step is required' : !values.key ? '--key is required' : undefined;
  if (missing) {
    process.stderr.write(`berth attest link: ${missing}\n\n${LINK_HELP}\n`);
    return 2;
  }
  const ref = parseReference(positionals[0]!);
  const reference = ref.digest ?? ref.tag;
  if (!reference) throw new BerthError('cli.usage', 'name the component by its version tag (oci://…:VERSION) or digest (…@sha256:…)');
  const key = loadPrivateKey((await readInput(values.key!, 'signing key', 64 * 1024)).toString('utf8'), `signing key ${values.key}`);
  const statement = linkStatement({
    step: values.step!,
    materials: await Promise.all((values.material ?? []).map(artifact)),
    products: await Promise.all((values.product ?? []).map(artifact)),
  });
  const bytes = serializeBundle(signStatement(statement, key));
  if (values.out) await writeOutput(values.out, bytes, 'link bundle');
  const client = new RegistryClient(ref.registry, await registryOptions(values));
  const attached = await attachToComponent(client, ref.repository, reference, [{ kind: 'dsse-envelope', predicateType: IN_TOTO_LINK_V03, bytes }]);
  process.stdout.write(`linked step '${values.step}' → ${formatReference({ ...ref, digest: attached.manifestDigest })} (referrer ${attached.referrers[0]})\n`);
  return 0;
}

/** `name=sha256:<hex>` as given, or a file named by its path and hashed here. */
async function artifact(spec: string): Promise<NamedDigest> {
  const at = spec.lastIndexOf('=');
  const digest = at > 0 ? spec.slice(at + 1) : '';
  if (at > 0 && digest.startsWith('sha256:')) {
    if (!isDigest(digest)) throw new BerthError('cli.usage', `'${spec}': ${digest} is not a sha256:<64 hex> digest`);
    return { name: spec.slice(0, at), digest };
  }
  return { name: spec, digest: sha256Digest(await readInput(spec, 'artifact')) };
}
