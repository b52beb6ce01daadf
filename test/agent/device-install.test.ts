import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BerthError } from '../../common/errors.js';
import { CYCLONEDX, importOptional, JCO, PGLITE, PREVIEW2_SHIM, resolveOptional, type OptionalPackage } from '../../common/optional-package.js';
import { distPath, projectRoot } from '../../common/paths.js';
import { importGraph } from '../support/import-graph.js';
import { suiteTempDir } from '../support/tmp.js';

// A device installs with `npm ci --omit=dev` (docs/engine.md): only package.json's
// `dependencies` are there. These tests read the compiled berth command in dist/ (what
// bin/berth.js runs), so they need `npm run build` first, as every test that runs the CLI does.

interface PackageJson {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as PackageJson;
const LEFT_OUT: OptionalPackage[] = [JCO, PREVIEW2_SHIM, PGLITE, CYCLONEDX];
const ABSENT: OptionalPackage = { name: '@berth-test/not-installed', neededBy: 'the test part' };

const exec = promisify(execFile);

/** Berth's built files and this checkout's node_modules (linked) without one package: a device install that left it out. */
function fakeInstallWithout(left: string): string {
  const root = suiteTempDir('device-install');
  for (const part of ['bin', 'dist', 'scripts', 'package.json']) cpSync(join(projectRoot(), part), join(root, part), { recursive: true });
  const modules = join(projectRoot(), 'node_modules');
  for (const name of readdirSync(modules)) {
    const scoped = name.startsWith('@') ? readdirSync(join(modules, name)).map((n) => `${name}/${n}`) : [name];
    for (const pkgName of scoped.filter((n) => n !== left)) {
      mkdirSync(join(root, 'node_modules', pkgName, '..'), { recursive: true });
      symlinkSync(join(modules, pkgName), join(root, 'node_modules', pkgName));
    }
  }
  return root;
}

describe('a device install', () => {
  it('leaves out the jco engine, component building, the embedded store and SBOM making', () => {
    for (const { name } of LEFT_OUT) {
      expect(pkg.dependencies[name], name).toBeUndefined();
      expect(pkg.devDependencies[name], name).toBeDefined();
    }
  });

  it('loads nothing outside `dependencies` when the berth command or the device agent loads a module', () => {
    const graph = importGraph([distPath('cli/main.js')]);
    expect(graph.unresolved).toEqual([]);
    // The walk must reach the device path and the modules that load optional packages, or this
    // test would pass by walking nothing.
    for (const module of [
      'cli/device.js',
      'runtime/agent/agent.js',
      'runtime/runtime.js',
      'runtime/engine/jco/jco-engine.js',
      'runtime/wat-component.js',
      'orchestrator/store/pglite.js',
    ]) {
      expect(graph.modules, module).toContain(distPath(module));
    }
    const outside = graph.packageImports
      .filter((i) => !(i.packageName in pkg.dependencies))
      .map((i) => `${i.specifier} from ${i.chain.map((f) => relative(projectRoot(), f)).join(' → ')}`);
    expect(outside).toEqual([]);
  });

  it('the walk finds a static import of a package through a chain of modules, and only static ones', () => {
    const dir = suiteTempDir('imports');
    writeFileSync(join(dir, 'entry.js'), "import { b } from './b.js';\nexport const later = () => import('./c.js');\n");
    writeFileSync(join(dir, 'b.js'), "import 'node:fs';\nexport { parse } from 'yaml';\nexport const b = () => import('@bytecodealliance/jco');\n");
    writeFileSync(join(dir, 'c.js'), "import { transpile } from '@bytecodealliance/jco/sub';\nimport './gone.js';\n");
    const graph = importGraph([join(dir, 'entry.js')]);
    expect(graph.packageImports.map((i) => [i.packageName, i.chain.map((f) => relative(dir, f))])).toEqual([
      ['yaml', ['entry.js', 'b.js']],
      ['@bytecodealliance/jco', ['entry.js', 'c.js']],
    ]);
    expect(graph.unresolved).toEqual([`${join(dir, 'c.js')} → ./gone.js`]);
  });

  it('a part whose package is not installed fails with an error naming the package, what needs it and how to get it', async () => {
    const refused = await importOptional(ABSENT).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(BerthError);
    expect((refused as BerthError).code).toBe('package-missing');
    expect((refused as BerthError).message).toMatch(/^the test part needs @berth-test\/not-installed, which is not installed .*npm install/);
    expect(() => resolveOptional(ABSENT, import.meta.url, `${ABSENT.name}/sub`)).toThrow(/the test part needs @berth-test\/not-installed/);
    await expect(importOptional(PGLITE, 'berth-test-other-package')).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  // A real install without jco (everything else as installed here) and a machine with no
  // Wasmtime library: the agent stops at once, with one line naming both reasons and the ways out.
  it('an agent with neither jco nor a Wasmtime library fails to start with one error naming both', async () => {
    const root = fakeInstallWithout(JCO.name);
    const config = join(root, 'agent.json');
    writeFileSync(config, JSON.stringify({ controlPlane: { url: 'https://127.0.0.1:9', ca: 'ca.pem' }, dataDir: 'data' }));
    const env = { ...process.env, PATH: join(root, 'no-bin'), XDG_CACHE_HOME: join(root, 'cache'), BERTH_ENGINE: '', BERTH_WASMTIME_LIBRARY: '' };
    const r = await exec(process.execPath, [join(root, 'bin', 'berth.js'), 'device', 'start', '--config', config], { env, timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^berth device: no engine can run apps here: no Wasmtime library: none in the cache .*npm run fetch-wasmtime`; and the jco engine needs @bytecodealliance\/jco, which is not installed/,
    );
  });

  it('npm run fetch-wasmtime in an install without jco does not promise jco when it finds no library', async () => {
    const root = fakeInstallWithout(JCO.name);
    const env = { ...process.env, PATH: join(root, 'no-bin'), XDG_CACHE_HOME: join(root, 'cache'), BERTH_WASMTIME_LIBRARY: '' };
    const { stdout } = await exec(process.execPath, [join(root, 'scripts', 'fetch-wasmtime.mjs')], { env, timeout: 60_000 });
    expect(stdout).toMatch(
      /^berth: no Wasmtime library: .*python3 is not installed.*\. jco is not installed either \(a device install\), so Berth cannot run apps until the library is in place \(docs\/engine\.md, "A device install"\)\n$/,
    );
    expect(stdout).not.toContain('runs on jco');
  });

  // The component is read and checked first; only making the document needs the library.
  it('berth sbom in an install without the CycloneDX library names the package and how to get it', async () => {
    const root = fakeInstallWithout(CYCLONEDX.name);
    cpSync(join(projectRoot(), 'package-lock.json'), join(root, 'package-lock.json')); // a device has it (docs/engine.md)
    const r = await exec(process.execPath, [join(root, 'bin', 'berth.js'), 'sbom', join(root, 'package.json')], { timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(/^berth sbom: not a valid WebAssembly component/) });
    const self = await exec(process.execPath, [join(root, 'bin', 'berth.js'), 'sbom', '--self'], { timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(self).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^berth sbom: making SBOMs \(berth sbom, docs\/sbom\.md\) needs @cyclonedx\/cyclonedx-library, which is not installed/),
    });
  });

  it('an installed optional package loads', async () => {
    const jco = await importOptional<{ transpile: unknown }>(JCO);
    expect(typeof jco.transpile).toBe('function');
    expect(resolveOptional(JCO, import.meta.url)).toContain(join('node_modules', '@bytecodealliance', 'jco'));
  });
});
