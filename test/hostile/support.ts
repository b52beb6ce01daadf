import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Logger } from '../../common/logger.js';
import { Runtime, type IsolationTier, type RuntimeOptions } from '../../runtime/runtime.js';
import type { AppSupervisor } from '../../runtime/supervisor.js';
import { fixturePath } from '../fixtures/build.js';
import { suiteTempDir } from '../support/tmp.js';

export { TIERS } from '../../wire/tier.js';
export const bytes = (name: string) => readFileSync(fixturePath(name));

/**
 * The bound on a well-behaved neighbour's call latency while a hostile app misbehaves. It is
 * generous on purpose: CI runs on two shared cores with other suites, and the point is "the
 * neighbour keeps answering promptly", not a performance figure (see docs/benchmarks.md).
 * Unloaded, the neighbour answers in about a millisecond.
 */
export const NEIGHBOUR_BOUND_MS = 1_500;

export interface HostileBench {
  runtime: Runtime;
  /** A well-behaved app of another vendor, in the worker tier, answering `add`. */
  neighbour: AppSupervisor;
  lines: { app?: string; msg: string; security?: boolean }[];
  /** Runs `attack` while calling the neighbour every 25 ms; asserts it always answered within the bound. */
  whileNeighbourAnswers<T>(attack: () => Promise<T>): Promise<T>;
}

export function hostileBench(name: string, options: Partial<RuntimeOptions> = {}): HostileBench {
  const lines: HostileBench['lines'] = [];
  const log = (o: { app?: string; security?: boolean }, msg: string) => lines.push({ app: o.app, msg, security: o.security });
  const logger = { info: log, warn: log, error: log, debug() {}, trace() {}, child: () => logger } as unknown as Logger;
  const bench = { lines } as HostileBench;
  beforeAll(async () => {
    bench.runtime = new Runtime({
      dataDir: suiteTempDir(`hostile-${name}`),
      logger,
      backoff: { initialMs: 50, maxMs: 800, factor: 2, resetAfterMs: 60_000 },
      ...options,
    });
    bench.neighbour = await bench.runtime.startApp(bytes('hello'), { vendor: 'neighbour', app: 'steady', grants: { log: {} }, tier: 'worker' });
  });
  afterAll(() => bench.runtime?.close());
  bench.whileNeighbourAnswers = async (attack) => {
    let done = false;
    const latencies: number[] = [];
    const probe = (async () => {
      while (!done) {
        const t0 = performance.now();
        const outcome = await bench.neighbour.invoke('add', [20, 22]);
        latencies.push(performance.now() - t0);
        expect(outcome).toEqual({ ok: true, value: 42 });
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    try {
      return await attack();
    } finally {
      done = true;
      await probe;
      expect(latencies.length).toBeGreaterThan(0);
      expect(Math.max(...latencies)).toBeLessThan(NEIGHBOUR_BOUND_MS);
    }
  };
  return bench;
}

export function nextStop(app: AppSupervisor): Promise<{ reason: string; message: string; restartInMs: number | undefined }> {
  return new Promise((resolve) => app.once('stopped', resolve));
}
