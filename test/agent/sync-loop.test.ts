import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../common/logger.js';

// One new desired state, then nothing new: what a device sees after adopting it.
let polls = 0;
vi.mock('../../runtime/agent/desired-state-follower.js', () => ({
  pollDesiredState: async (_ctx: unknown, _adopted: unknown, waitSeconds: number) => {
    polls++;
    if (polls === 1) return { kind: 'changed', state: { manifestVersion: 2, etag: '"e2"', manifestDigest: 'sha256:2', manifest: {}, documents: [{}] } };
    await new Promise((r) => setTimeout(r, Math.min(waitSeconds, 0.05) * 1000));
    return { kind: 'unchanged' };
  },
}));
vi.mock('../../runtime/agent/deployment-plan.js', () => ({
  planFromDocument: () => ({ deploymentId: 'meter', app: 'meter', version: '1.1.0' }),
}));

const { runSync } = await import('../../runtime/agent/sync-loop.js');

describe('the desired-state loop', () => {
  it('retries a deployment that failed in a round whose adopted state could not be saved (a full disk)', async () => {
    const failures = new Map<string, string>();
    let applied = 0;
    const reconciler = {
      failures: () => failures,
      async apply() {
        applied++;
        // The first install fails for want of space; the retry finds space again.
        if (applied === 1) failures.set('meter', 'ENOSPC: no space left on device');
        else failures.clear();
      },
      collectGarbage: async () => undefined,
    };
    let saves = 0;
    const store = {
      async save() {
        saves++;
        if (saves === 1) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    };
    const stop = new AbortController();
    const running = runSync(
      {
        follower: {} as never,
        store: store as never,
        reconciler: reconciler as never,
        source: {} as never,
        deviceId: () => 'press-2',
        longPollSeconds: 1,
        pollIntervalMs: 10,
        backoff: { initialMs: 40, maxMs: 80 },
        logger: silentLogger,
        onApplying: () => undefined,
        onAdopted: () => undefined,
        onRefused: () => undefined,
      },
      { adopted: undefined, plans: [] },
      stop.signal,
    );
    const deadline = Date.now() + 5_000;
    while (applied < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await running;
    expect(saves).toBe(1);
    expect(applied, 'the failed deployment was tried again').toBeGreaterThanOrEqual(2);
    expect(failures.size).toBe(0);
  });
});
