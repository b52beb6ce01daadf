import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseGrants } from '../../host-apis/grants.js';
import { JcoEngine } from '../../runtime/engine/jco/jco-engine.js';
import type { CompiledComponent } from '../../runtime/engine/engine.js';
import type { ComponentGlue } from '../../runtime/engine/jco/glue-types.js';
import { JcoGuestComponent } from '../../runtime/engine/jco/guest.js';
import { loadGlueScript } from '../../runtime/engine/jco/glue-loader.js';
import { glueAsScript } from '../../runtime/engine/jco/glue-script.js';
import { AppInstance } from '../../runtime/sandbox/app-instance.js';
import { WorkerSandbox } from '../../runtime/sandbox/worker-sandbox.js';
import { fixturePath } from '../fixtures/build.js';
import { suiteTempDir } from '../support/tmp.js';
import { logAppSpec } from '../support/sandbox-spec.js';

const MiB = 2 ** 20;
const compileIn = (cacheDir: string, name = 'hello') => new JcoEngine({ cacheDir }).compile(readFileSync(fixturePath(name)), { memoryLimitBytes: 16 * MiB });
const context = () => ({
  identity: { vendor: 'acme', app: 'hello', instance: 'one' },
  grants: parseGrants({ log: {} }),
  dataDir: suiteTempDir('glue-script-app'),
  logSink: () => {},
});

async function startAndAdd(compiled: CompiledComponent): Promise<unknown> {
  const sandbox = await WorkerSandbox.start(compiled, logAppSpec(compiled, 'hello', 16 * MiB), { log: () => {} });
  try {
    return await sandbox.invoke('add', [40, 2]);
  } finally {
    await sandbox.stop();
  }
}

describe("jco's glue as a CommonJS script", () => {
  it.each(['hello', 'files', 'js-app'])('is written beside the module for %s and instantiates like it', async (name) => {
    const compiled = await compileIn(join(suiteTempDir('glue-script'), 'cache'), name);
    expect(compiled.artifact.glueScript).toBe(join(dirname(fileURLToPath(compiled.artifact.glueUrl)), 'glue.cjs'));
    const glue = createRequire(import.meta.url)(compiled.artifact.glueScript!) as ComponentGlue;
    expect(typeof glue.instantiate).toBe('function');
    if (name === 'hello')
      expect(AppInstance.create(new JcoGuestComponent(glue, compiled.artifact), compiled.info.imports, context()).invoke('add', [40, 2])).toEqual({
        ok: true,
        value: 42,
      });
  });

  it('is not made from glue it was not written for: an import, another export, import.meta', () => {
    const glue = 'export function instantiate(getCoreModule, imports) {\n  return {};\n}\nexport const _util = {\n};\n';
    expect(glueAsScript(glue)).toContain('module.exports = { instantiate };');
    expect(glueAsScript(`import { x } from './x.js';\n${glue}`)).toBeUndefined();
    expect(glueAsScript(`${glue}export function other() {}\n`)).toBeUndefined();
    expect(glueAsScript(`${glue}const here = import.meta.url;\n`)).toBeUndefined();
    expect(glueAsScript('export const _util = {};\n')).toBeUndefined();
  });

  it('is what a sandbox thread loads: the app starts with the module unloadable, and with a broken script it falls back to the module', async () => {
    const compiled = await compileIn(join(suiteTempDir('glue-script-load'), 'cache'));
    const moduleFile = fileURLToPath(compiled.artifact.glueUrl);
    const saved = join(suiteTempDir('glue-script-saved'), 'glue.mjs');
    copyFileSync(moduleFile, saved);
    writeFileSync(moduleFile, 'throw new Error("the module was imported");\n');
    expect(await startAndAdd(compiled)).toEqual({ ok: true, value: 42 });

    copyFileSync(saved, moduleFile);
    writeFileSync(compiled.artifact.glueScript!, 'this is not javascript (');
    expect(await startAndAdd(compiled)).toEqual({ ok: true, value: 42 });
  });

  it("comes with V8's code cache made after a warm-up, and a thread given a damaged one still runs the glue right", async () => {
    const compiled = await compileIn(join(suiteTempDir('glue-code-cache'), 'cache'));
    // The warmed functions are in it, not the top level alone (~3 KB for hello's glue).
    expect(compiled.artifact.glueCodeCache!.byteLength).toBeGreaterThan(20_000);
    const withCache = loadGlueScript(compiled.artifact.glueScript!, compiled.artifact.glueCodeCache);
    expect(AppInstance.create(new JcoGuestComponent(withCache.glue, compiled.artifact), compiled.info.imports, context()).invoke('add', [40, 2])).toEqual({
      ok: true,
      value: 42,
    });
    const damaged = new Uint8Array(compiled.artifact.glueCodeCache!);
    damaged.fill(7, 0, 64);
    const loaded = loadGlueScript(compiled.artifact.glueScript!, damaged);
    expect(AppInstance.create(new JcoGuestComponent(loaded.glue, compiled.artifact), compiled.info.imports, context()).invoke('add', [1, 2])).toEqual({
      ok: true,
      value: 3,
    });
    expect(await startAndAdd({ ...compiled, artifact: { ...compiled.artifact, glueCodeCache: damaged } })).toEqual({ ok: true, value: 42 });
  });

  it('a cache written before scripts existed still loads, by the module', async () => {
    const cacheDir = join(suiteTempDir('glue-script-old'), 'cache');
    const first = await compileIn(cacheDir);
    rmSync(first.artifact.glueScript!);
    const again = await compileIn(cacheDir);
    expect(again.artifact.glueScript).toBeUndefined();
    expect(existsSync(fileURLToPath(again.artifact.glueUrl))).toBe(true);
    expect(await startAndAdd(again)).toEqual({ ok: true, value: 42 });
  });
});
