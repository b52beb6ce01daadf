import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import type { CycloneDxJson } from '../../trust/sbom/bom.js';
import { suiteTempDir } from '../support/tmp.js';
import { expectValidCycloneDx } from './support.js';

const exec = promisify(execFile);
const root = projectRoot();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; link?: boolean; name?: string }>;
};

/**
 * `npm run sbom` is the build and then one berth command; this runs that command as the script
 * spells it (to a temporary file, and without rebuilding dist/ under the suites running beside it).
 */
const SCRIPT = /^npm run build --silent && (node bin\/berth\.js sbom --self) --out dist\/sbom\/berth\.cdx\.json$/;

async function runSbomScript(): Promise<CycloneDxJson> {
  const command = SCRIPT.exec(pkg.scripts.sbom ?? '')?.[1];
  expect(command, 'package.json scripts.sbom').toBeDefined();
  const out = join(suiteTempDir('berth-sbom'), 'berth.cdx.json');
  const [node, script, ...args] = command!.split(' ');
  expect(node).toBe('node');
  const { stdout } = await exec(process.execPath, [join(root, script!), ...args, '--out', out], { cwd: root, timeout: 60_000 });
  expect(stdout).toMatch(new RegExp(`^wrote ${out} \\(\\d+ components\\)\\n$`));
  return JSON.parse(readFileSync(out, 'utf8')) as CycloneDxJson;
}

let made: Promise<CycloneDxJson> | undefined;
/** One run for the whole file. */
const berthSbom = (): Promise<CycloneDxJson> => (made ??= runSbomScript());

/** What the lock installs: every entry under node_modules/ that is not a link, once per name@version. */
function lockedPackages(): Map<string, string> {
  const found = new Map<string, string>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.includes('node_modules/') || entry.link) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    found.set(`${name}@${entry.version}`, name);
  }
  return found;
}

describe("Berth's own SBOM (npm run sbom)", () => {
  it('is valid CycloneDX 1.6, names Berth, and lists exactly what package-lock.json locks', async () => {
    const sbom = await berthSbom();
    await expectValidCycloneDx(sbom);
    const purl = `pkg:npm/berth@${pkg.version}`;
    expect(sbom.metadata?.component).toMatchObject({
      type: 'application',
      name: 'berth',
      version: pkg.version,
      purl,
      licenses: [{ license: { id: 'Apache-2.0' } }],
    });
    expect(sbom.metadata?.properties).toEqual([{ name: 'berth:lock-file', value: 'package-lock.json' }]);
    expect(sbom.components).toHaveLength(lockedPackages().size);

    const hono = lock.packages['node_modules/hono']!.version!;
    expect(sbom.components?.filter((c) => c.name === 'hono')).toEqual([
      expect.objectContaining({
        version: hono,
        purl: `pkg:npm/hono@${hono}`,
        'bom-ref': `pkg:npm/hono@${hono}`,
        scope: 'required',
        hashes: [expect.objectContaining({ alg: 'SHA-512' })],
      }),
    ]);
  });

  // A device installs with --omit=dev: the SBOM says which packages that leaves out.
  it('marks development packages excluded and depends on exactly package.json dependencies and devDependencies', async () => {
    const sbom = await berthSbom();
    const scopeOf = (name: string) => sbom.components?.find((c) => c.name === name && !c.group)?.scope;
    expect(scopeOf('vitest')).toBe('excluded');
    expect(scopeOf('typescript')).toBe('excluded');
    expect(scopeOf('koffi')).toBe('required');
    const direct = sbom.dependencies?.find((d) => d.ref === sbom.metadata?.component?.['bom-ref'])?.dependsOn;
    const declared = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
    expect(direct).toHaveLength(declared.length);
    for (const name of declared) {
      const version = lock.packages[`node_modules/${name}`]!.version!;
      const [scope, bare] = name.startsWith('@') ? name.split('/') : [undefined, name];
      expect(direct).toContain(`pkg:npm/${scope ? encodeURIComponent(scope) + '/' : ''}${bare!.toLowerCase()}@${version}`);
    }
  });
});
