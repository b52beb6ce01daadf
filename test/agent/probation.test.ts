import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { watchProbation, type ProbationVerdict } from '../../runtime/agent/probation.js';
import { Runtime } from '../../runtime/runtime.js';
import { fixturePath } from '../fixtures/build.js';
import { suiteTempDir } from '../support/tmp.js';

/** What a probation came to: failed (with its verdict) or passed, whichever hook ran first. */
function outcome(): { hooks: { failed(v: ProbationVerdict): void; passed(): void }; settled: Promise<{ failed?: ProbationVerdict; passed?: true }> } {
  let settle!: (o: { failed?: ProbationVerdict; passed?: true }) => void;
  const settled = new Promise<{ failed?: ProbationVerdict; passed?: true }>((r) => (settle = r));
  return { hooks: { failed: (v) => settle({ failed: v }), passed: () => settle({ passed: true }) }, settled };
}

// The health window on real apps in the real runtime: what counts as a restart storm, and what passes.
describe('probation of an updated app (last-known-good)', () => {
  const runtime = new Runtime({ dataDir: suiteTempDir('probation'), warmWorkers: 0 });
  afterAll(() => runtime.close());

  it('a version whose run traps at every start fails it as a restart storm, once', async () => {
    const app = await runtime.startApp(readFileSync(fixturePath('trap')), { vendor: 'acme', app: 'storm', grants: {} });
    const { hooks, settled } = outcome();
    let calls = 0;
    watchProbation(app, { windowMs: 60_000, maxRestarts: 3 }, { failed: (v) => (calls++, hooks.failed(v)), passed: hooks.passed });
    const result = await settled;
    await app.stop();
    expect(result.failed).toMatchObject({ reason: 'restart-storm' });
    expect(result.failed!.restarts).toBeGreaterThanOrEqual(3);
    expect(result.failed!.lastStop).toMatch(/trap|unreachable|failed/i);
    expect(calls).toBe(1);
  }, 60_000);

  it('a version that keeps running passes when its window ends', async () => {
    const app = await runtime.startApp(readFileSync(fixturePath('hello')), { vendor: 'acme', app: 'steady', grants: { log: {} } });
    const { hooks, settled } = outcome();
    watchProbation(app, { windowMs: 300, maxRestarts: 1 }, hooks);
    expect(await settled).toEqual({ passed: true });
    await app.stop();
  }, 60_000);

  it('a stop the runtime asked for is not the app failing', async () => {
    const app = await runtime.startApp(readFileSync(fixturePath('hello')), { vendor: 'acme', app: 'stopped', grants: { log: {} } });
    const { hooks, settled } = outcome();
    watchProbation(app, { windowMs: 500, maxRestarts: 1 }, hooks);
    await app.stop();
    expect(await settled).toEqual({ passed: true });
  }, 60_000);
});
