import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../../runtime/agent/enroll.js';
import { loadIdentity } from '../../runtime/agent/identity-files.js';
import { RenewalScheduler, issuedAt, renewalDueAt } from '../../runtime/agent/renewal.js';
import type { DeviceIdentity } from '../../runtime/agent/identity-files.js';
import { call, startHarness, type Harness } from './harness.js';

// Short-lived certificates, so the agent's scheduler renews within the test.
let h: Harness;
let work: string;
beforeAll(async () => {
  h = await startHarness({ certificateLifetimeMs: 20_000 });
  work = mkdtempSync(join(tmpdir(), 'berth-sched-'));
});
afterAll(async () => {
  await h?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('agent renewal scheduler', () => {
  it('renews at the configured fraction of the lifetime, and the new certificate is used', async () => {
    const token = await h.enrollmentToken({ deviceId: 'sched-1' });
    const dir = join(work, 'dev');
    const first = await enroll({ url: h.cp.url, ca: h.ca, dir, credential: { kind: 'token', token } });
    // Lifetime counts from issue, not from the backdated notBefore: pick the fraction ~1 s from now.
    const lifetime = first.notAfter.getTime() - issuedAt(first);
    const fraction = (Date.now() + 1000 - issuedAt(first)) / lifetime;
    expect(renewalDueAt(first, fraction).getTime()).toBeLessThan(first.notAfter.getTime());
    const renewed = await new Promise<DeviceIdentity>((resolve) => {
      const scheduler: RenewalScheduler = new RenewalScheduler(first, {
        url: h.cp.url,
        ca: h.ca,
        dir,
        fraction,
        onRenewed: (id): void => (scheduler.stop(), resolve(id)),
      });
      scheduler.start();
    });
    expect(renewed.deviceId).toBe('sched-1');
    expect(renewed.notAfter.getTime()).toBeGreaterThan(first.notAfter.getTime());
    expect((await loadIdentity(dir))?.keyPem).toBe(renewed.keyPem);
    expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: renewed.keyPem, cert: renewed.certificatePem })).status).toBe(200);
  });
});
