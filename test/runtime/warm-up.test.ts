import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGrants } from '../../host-apis/grants.js';
import type { AppLogRecord } from '../../host-apis/app-context.js';
import { JcoEngine } from '../../runtime/engine/jco/jco-engine.js';
import type { CompiledComponent } from '../../runtime/engine/engine.js';
import type { ComponentGlue } from '../../runtime/engine/jco/glue-types.js';
import { JcoGuestComponent } from '../../runtime/engine/jco/guest.js';
import { AppInstance } from '../../runtime/sandbox/app-instance.js';
import { Runtime } from '../../runtime/runtime.js';
import { DEFAULT_LIMITS } from '../../runtime/sandbox/sandbox.js';
import { WorkerPool } from '../../runtime/sandbox/worker-pool.js';
import { WorkerSandbox } from '../../runtime/sandbox/worker-sandbox.js';
import { warmUpHostApis } from '../../runtime/sandbox/host-warm-up.js';
import { warmUpGlue } from '../../runtime/engine/jco/warm-up.js';
import { fixturePath } from '../fixtures/build.js';
import { waitFor } from '../support/app-logs.js';
import { suiteTempDir } from '../support/tmp.js';
import { logAppSpec } from '../support/sandbox-spec.js';

const MiB = 2 ** 20;
const engine = new JcoEngine({ cacheDir: join(suiteTempDir('warm-up'), 'cache') });
const compile = (name: string) => engine.compile(readFileSync(fixturePath(name)), { memoryLimitBytes: 64 * MiB });

/** Counts core instances made while `work` runs: a warm-up must make none (no guest code runs). */
function coreInstancesMadeBy(work: () => void): number {
  const real = WebAssembly.Instance;
  let made = 0;
  WebAssembly.Instance = new Proxy(real, {
    construct(target, args) {
      made++;
      return Reflect.construct(target, args) as object;
    },
  });
  try {
    work();
  } finally {
    WebAssembly.Instance = real;
  }
  return made;
}

describe('warming up a glue', () => {
  // One fixture per toolchain, the HTTP one for its resource-heavy glue.
  it.each(['hello', 'files', 'js-app', 'http-server'])("runs %s's glue against stand-ins without instantiating any of its core modules", async (name) => {
    const compiled = await compile(name);
    const glue = (await import(compiled.artifact.glueUrl)) as ComponentGlue;
    expect(coreInstancesMadeBy(() => warmUpGlue(glue, compiled.artifact.modules))).toBe(0);
  });

  it('leaves no promise rejected unobserved (that would end the pooled thread): async glue and async exports', async () => {
    const unobserved: unknown[] = [];
    const record = (reason: unknown) => unobserved.push(reason);
    process.on('unhandledRejection', record);
    try {
      const asyncGlue = { instantiate: () => Promise.reject(new Error('async instantiation')) } as unknown as ComponentGlue;
      const asyncExports = {
        instantiate: () => ({
          run: () => Promise.reject(new Error('async export')),
          'wasi:http/incoming-handler@0.2.0': {
            handle: async () => {
              throw new Error('async method');
            },
          },
        }),
      } as unknown as ComponentGlue;
      warmUpGlue(asyncGlue, {});
      warmUpGlue(asyncExports, {});
      await new Promise((r) => setTimeout(r, 20));
      expect(unobserved).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('leaves nothing behind that the real instance sees: it instantiates, runs and answers as without a warm-up', async () => {
    const compiled = await compile('hello');
    const glue = (await import(`${compiled.artifact.glueUrl}?fresh`)) as ComponentGlue;
    warmUpGlue(glue, compiled.artifact.modules);
    warmUpHostApis();
    const records: AppLogRecord[] = [];
    const context = {
      identity: { vendor: 'acme', app: 'hello', instance: 'one' },
      grants: parseGrants({ log: {} }),
      dataDir: suiteTempDir('warm-up-app'),
      logSink: (r: AppLogRecord) => records.push(r),
    };
    const made = coreInstancesMadeBy(() => {
      const instance = AppInstance.create(new JcoGuestComponent(glue, compiled.artifact), compiled.info.imports, context);
      expect(instance.invoke('add', [40, 2])).toEqual({ ok: true, value: 42 });
      expect(instance.invoke('run', [])).toEqual({ ok: true, value: undefined });
    });
    expect(made).toBeGreaterThan(0);
    expect(records.map((r) => r.message)).toEqual(['hello from wat']);
  });
});

describe('a pool of pre-started workers', () => {
  const spec = (compiled: CompiledComponent, app: string) => logAppSpec(compiled, app, 64 * MiB);

  it('starts a preloaded app that answers, and replaces a taken worker only once its app has loaded', async () => {
    const compiled = await compile('hello');
    const pool = new WorkerPool(1, { jsHeapMb: DEFAULT_LIMITS.jsHeapMb });
    try {
      pool.preload(compiled);
      await waitFor(() => pool.idleWorkers === 1 || undefined);
      const worker = await pool.acquire();
      // The replacement would compete for the CPU with the start waiting on the taken worker.
      expect(pool.idleWorkers).toBe(0);
      await worker.terminate();
      await waitFor(() => pool.idleWorkers === 1 || undefined, 5_000, 'the pool refilled after its worker ended');

      const logs: string[] = [];
      const sandbox = await WorkerSandbox.start(compiled, spec(compiled, 'pooled'), { log: (_, r) => logs.push(r.message) }, pool);
      expect(await sandbox.invoke('add', [1, 2])).toEqual({ ok: true, value: 3 });
      expect(await sandbox.invoke('run')).toEqual({ ok: true, value: undefined });
      await waitFor(() => logs.length > 0 || undefined);
      expect(logs).toEqual(['hello from wat']);
      await waitFor(() => pool.idleWorkers === 1 || undefined, 5_000, 'the pool refilled after the app loaded');
      await sandbox.stop();
    } finally {
      await pool.close();
    }
  });
});

describe('the runtime and its pool', () => {
  it('preloads a started app into the pool and stops preloading it once no app runs it', async () => {
    const runtime = new Runtime({ dataDir: suiteTempDir('warm-up-runtime'), warmWorkers: 1 });
    const pool = (runtime as unknown as { pool: WorkerPool }).pool;
    try {
      const hello = readFileSync(fixturePath('hello'));
      const first = await runtime.startApp(hello, { vendor: 'acme', app: 'one', grants: { log: {} } });
      const second = await runtime.startApp(hello, { vendor: 'acme', app: 'two', grants: { log: {} } });
      expect(pool.preloaded).toHaveLength(1);
      await first.stop();
      expect(pool.preloaded).toHaveLength(1); // the other app still runs it and may restart
      await second.stop();
      expect(pool.preloaded).toEqual([]);
    } finally {
      await runtime.close();
    }
  });
});
