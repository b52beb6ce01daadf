import type { CompiledComponent, Engine } from '../runtime/engine/engine.js';
import { parseGrants } from '../host-apis/grants.js';
import { DEFAULT_LIMITS, type AppSpec } from '../runtime/sandbox/sandbox.js';
import { WorkerPool } from '../runtime/sandbox/worker-pool.js';
import { WorkerSandbox } from '../runtime/sandbox/worker-sandbox.js';
import { fixture } from './isolation-berth.js';
import { RUNAWAY_DEADLINE_MS } from './runtime-guest.js';

const MiB = 2 ** 20;

/** Measured through a worker sandbox (a thread of the app's own), on one engine. */
export interface SandboxFigures {
  /** Bytes already compiled, fresh worker, to the first call returned. */
  coldMs: number[];
  /** The same on a thread started beforehand (pool of 2). */
  pooledMs: number[];
  /** `spin` with a 50 ms deadline: from the deadline to the call's outcome arriving in the controlling thread. */
  runawayOverrunMs: number[];
  /** From the decision to stop a runaway to its sandbox gone. */
  stopMs: number[];
}

export interface SandboxCounts {
  cold: number;
  runaways: number;
}

const hooks = { log: () => {} };

function spec(compiled: CompiledComponent, dataDir: string, app: string, grants: unknown, cpuDeadlineMs = DEFAULT_LIMITS.cpuDeadlineMs): AppSpec {
  return {
    identity: { vendor: 'bench', app, instance: app },
    digest: compiled.digest,
    grants: parseGrants(grants),
    dataDir,
    limits: { ...DEFAULT_LIMITS, memoryBytes: 16 * MiB, cpuDeadlineMs },
  };
}

export async function measureSandboxes(engine: Engine, dataDir: string, counts: SandboxCounts): Promise<SandboxFigures> {
  const hello = await engine.compile(fixture('hello'), { memoryLimitBytes: 16 * MiB });
  const spin = await engine.compile(fixture('spin'), { memoryLimitBytes: 16 * MiB });
  const figures: SandboxFigures = { coldMs: [], pooledMs: [], runawayOverrunMs: [], stopMs: [] };

  for (let i = 0; i < counts.cold; i++) {
    const t0 = performance.now();
    const sandbox = await WorkerSandbox.start(hello, spec(hello, dataDir, 'cold', { log: {} }), hooks);
    await sandbox.invoke('add', [1, 2]);
    figures.coldMs.push(performance.now() - t0);
    await sandbox.stop();
  }

  const pool = new WorkerPool(2, { jsHeapMb: DEFAULT_LIMITS.jsHeapMb });
  pool.preload(hello);
  try {
    for (let i = 0; i < counts.cold; i++) {
      await new Promise((r) => setTimeout(r, 120)); // let the pool refill, as it would between deployments
      const t0 = performance.now();
      const sandbox = await WorkerSandbox.start(hello, spec(hello, dataDir, 'pooled', { log: {} }), hooks, pool);
      await sandbox.invoke('add', [1, 2]);
      figures.pooledMs.push(performance.now() - t0);
      await sandbox.stop();
    }
  } finally {
    await pool.close();
  }

  for (let i = 0; i < counts.runaways; i++) {
    const sandbox = await WorkerSandbox.start(spin, spec(spin, dataDir, 'spin', {}, RUNAWAY_DEADLINE_MS), hooks);
    const t0 = performance.now();
    const outcome = await sandbox.invoke('run');
    figures.runawayOverrunMs.push(performance.now() - t0 - RUNAWAY_DEADLINE_MS);
    await sandbox.stop();
    if (outcome.ok || outcome.failure.kind !== 'sandbox-stopped') throw new Error(`the runaway was not stopped at its deadline: ${JSON.stringify(outcome)}`);
  }

  for (let i = 0; i < counts.runaways; i++) {
    const sandbox = await WorkerSandbox.start(spin, spec(spin, dataDir, 'spin', {}, 60_000), hooks);
    void sandbox.invoke('run');
    await new Promise((r) => setTimeout(r, 30));
    const t0 = performance.now();
    await sandbox.stop();
    figures.stopMs.push(performance.now() - t0);
  }
  return figures;
}
