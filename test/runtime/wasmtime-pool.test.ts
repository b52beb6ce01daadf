import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WorkerPool } from '../../runtime/sandbox/worker-pool.js';
import { WorkerSandbox } from '../../runtime/sandbox/worker-sandbox.js';
import { fixturePath } from '../fixtures/build.js';
import { testEngine } from '../support/engines.js';
import { logAppSpec } from '../support/sandbox-spec.js';
import { suiteTempDir } from '../support/tmp.js';

const MiB = 2 ** 20;

// A pre-started thread opens Wasmtime's C API through koffi when an artifact is preloaded; a
// thread terminated from outside while koffi does that aborts the whole process (Node 24:
// `napi_throw` during termination). The pool asks its idle threads to exit instead.
describe('pre-started threads on Wasmtime', () => {
  it('a pool closed at any moment of its threads opening the FFI ends them without harm to the process', async () => {
    const engine = await testEngine('wasmtime', suiteTempDir('wasmtime-pool'));
    const compiled = await engine.compile(readFileSync(fixturePath('hello')), { memoryLimitBytes: 64 * MiB });
    // Closed at once, and at staggered moments into the preload: the window in which koffi opens the C API.
    for (let i = 0; i < 32; i++) {
      const pool = new WorkerPool(3, { jsHeapMb: 64 });
      pool.preload(compiled);
      await new Promise((r) => setTimeout(r, i * 3));
      await pool.close();
      expect(pool.idleWorkers).toBe(0);
    }
    // Still here; and a pool that preloaded serves an app from its pre-started thread.
    const pool = new WorkerPool(1, { jsHeapMb: 64 });
    try {
      pool.preload(compiled);
      const sandbox = await WorkerSandbox.start(compiled, logAppSpec(compiled, 'pooled', 64 * MiB), { log: () => {} }, pool);
      expect(await sandbox.invoke('add', [40, 2])).toEqual({ ok: true, value: 42 });
      await sandbox.stop();
    } finally {
      await pool.close();
    }
  });
});
