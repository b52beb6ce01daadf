import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthOf } from '../../orchestrator/store/device-health.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { memoryPlacements, onboard } from './support.js';

// A device's polls over mTLS are what keeps it `healthy` for the scheduler (docs/scheduling.md).
let dir: string;
let h: Harness;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-presence-'));
  // The timer is far off: the test runs the reconciler itself.
  h = await startHarness({ placementSource: memoryPlacements(), reconcileIntervalMs: 3_600_000 });
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('presence through the device channel', () => {
  it('a poll is recorded at the next reconcile; a device that never polled has no health row', async () => {
    const polled = await onboard(h, 'press-1', dir);
    await onboard(h, 'press-2', dir);
    const before = Date.now();
    expect((await polled.get(h, '/api/v1/deployments')).status).toBe(200);
    expect(await healthOf(h.cp.deps.store, 'press-1')).toBeUndefined();
    const pass = await h.cp.reconciler!.runNow();
    expect(pass.skipped).toBe(false);
    const health = await healthOf(h.cp.deps.store, 'press-1');
    expect(health?.health).toBe('healthy');
    expect(health!.lastSeenAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(await healthOf(h.cp.deps.store, 'press-2')).toBeUndefined();
  });

  it('with the reconciler off there is no presence tracking at all', async () => {
    const off = await startHarness({ placementSource: memoryPlacements(), reconcileIntervalMs: 0 });
    try {
      expect(off.cp.reconciler).toBeUndefined();
      const d = await onboard(off, 'press-3', dir);
      expect((await d.get(off, '/api/v1/deployments')).status).toBe(200);
      expect(await healthOf(off.cp.deps.store, 'press-3')).toBeUndefined();
    } finally {
      await off.stop();
    }
  });
});
