import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { errorMessage } from '../common/errors.js';
import { MEDIA_TYPE } from '../oci/media-types.js';
import { readInput, writeOutput } from '../trust/signing/files.js';
import type { CycloneDxJson } from '../trust/sbom/bom.js';
import type { Command } from './main.js';

const HELP = `usage: berth sbom <component.wasm> [--lock FILE] [--name NAME] [--version V] [--repository REPO] [--out FILE]
       berth sbom --self [--out FILE]

Writes a CycloneDX 1.6 JSON SBOM (${MEDIA_TYPE.cyclonedxJson}) of a component: its name,
version, sha256 and pkg:oci purl, what its producers sections say, its WIT imports and exports,
and with --lock the packages its lock file locks (docs/sbom.md). Nothing is run or fetched.

  --lock FILE         the app's package-lock.json, npm-shrinkwrap.json, Cargo.lock or go.sum
  --name NAME         the app's name (default: the last part of --repository, else the file name without .wasm)
  --version V         the app's version (default: none; the digest in the purl names the exact bytes)
  --repository REPO   the OCI repository it is published in, e.g. registry.example/acme/sensor
  --out FILE          write the SBOM here (folders made as needed) instead of to stdout
  --self              Berth's own SBOM from its package-lock.json (what \`npm run sbom\` writes)`;

const OPTIONS = {
  lock: { type: 'string' },
  name: { type: 'string' },
  version: { type: 'string' },
  repository: { type: 'string' },
  out: { type: 'string' },
  self: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>>['values'];

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
    } catch (err) {
      return usageError(errorMessage(err));
    }
    const { values, positionals } = parsed;
    if (values.help) return (void process.stdout.write(HELP + '\n'), 0);
    const problem = usageProblem(values, positionals);
    if (problem) return usageError(problem);
    const sbom = values.self ? await selfSbom() : await fileSbom(positionals[0]!, values);
    await emit(sbom, values.out);
    return 0;
  },
};

function usageProblem(values: Flags, positionals: string[]): string | undefined {
  if (values.self) {
    const extra = (['lock', 'name', 'version', 'repository'] as const).filter((f) => values[f] !== undefined);
    if (positionals.length > 0 || extra.length > 0) return `--self takes only --out (got ${[...positionals, ...extra.map((f) => '--' + f)].join(', ')})`;
    return undefined;
  }
  if (positionals.length !== 1) return 'give one component file, or --self';
  return undefined;
}

function usageError(problem: string): number {
  process.stderr.write(`berth sbom: ${problem}\n\n${HELP}\n`);
  return 2;
}

async function selfSbom(): Promise<CycloneDxJson> {
  const { berthSbom } = await import('../trust/sbom/berth-sbom.js');
  return berthSbom();
}

async function fileSbom(file: string, values: Flags): Promise<CycloneDxJson> {
  const { componentSbom } = await import('../trust/sbom/component-sbom.js');
  const { readLockFile } = await import('../trust/sbom/lock-files.js');
  const lock = values.lock === undefined ? undefined : await readLockFile(values.lock);
  const bytes = await readInput(file, 'component');
  return componentSbom(bytes, { name: values.name ?? defaultName(file, values.repository), version: values.version, repository: values.repository, lock });
}

/** The repository's last part is what the app is published as; failing that, the file says. */
function defaultName(file: string, repository: string | undefined): string {
  return repository ? repository.slice(repository.lastIndexOf('/') + 1) : basename(file).replace(/\.wasm$/, '');
}

async function emit(sbom: CycloneDxJson, out: string | undefined): Promise<void> {
  const text = JSON.stringify(sbom, null, 2) + '\n';
  if (out === undefined) return void process.stdout.write(text);
  await mkdir(dirname(out), { recursive: true }).catch(() => undefined); // writeOutput names the failure
  await writeOutput(out, text, 'SBOM');
  const count = sbom.components?.length ?? 0;
  process.stdout.write(`wrote ${out} (${count} ${count === 1 ? 'component' : 'components'})\n`);
}
