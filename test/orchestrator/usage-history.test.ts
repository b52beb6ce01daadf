import { beforeAll, describe, expect, it } from 'vitest';
import { recordDeviceStatus } from '../../orchestrator/deployments/status.js';
import { reconcileOnce } from '../../orchestrator/scheduling/reconcile.js';
import { USAGE_HISTORY_MAX, usageHistorySchema, type UsageHistory } from '../../wire/usage-history.js';
import { addDevice } from '../deployments/fixtures.js';
import { harnessWithRoles } from '../deployments/operator-api.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';
import { call } from './harness.js';

const api = harnessWithRoles(['operator', 'vendor:acme']);
const operator = api.as('operator');
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}` as const;

beforeAll(async () => {
  expect((await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: testTrustPolicy('acme') })).status).toBe(201);
  expect((await api.as('vendor:acme')('POST', '/api/v1/catalog/apps', { id: 'meter' })).status).toBe(201);
  await insertVerifiedVersion(api.h.cp.deps.store, {
    appId: 'meter',
    version: '1.0.0',
    digest: digest(1),
    rootsFingerprint: api.h.cp.deps.artifacts!.roots.fingerprint,
  });
  for (const id of ['use-1', 'use-2', 'gw/use-3']) await addDevice(api.h.cp.deps.store, id);
  for (const [id, deviceIds] of [
    ['meter-a', ['use-1', 'use-2', 'gw/use-3']],
    ['meter-b', ['use-1']],
  ] as const) {
    const deployed = await operator('POST', '/api/v1/admin/deployments', { id, app: 'meter', version: '1.0.0', grants: {}, deviceIds });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
  }
});

/** A device's installed report, as the device channel records it (one statement per batch, store/deployment-status.ts). */
async function report(deviceId: string, deploymentId: string, usage: Record<string, unknown> | null): Promise<void> {
  const changed = api.h.cp.deps.desiredStateChanged ?? (async () => {});
  const outcome = await api.h.cp.deps.store.transaction((tx) =>
    recordDeviceStatus(tx, { deploymentId, deviceId, state: 'installed', error: null, components: [], adoptedManifestVersion: null, usage }, changed),
  );
  expect(outcome).toMatch(/^(created|updated)$/);
}

const usage = (memoryBytes: number, busyMs: number) => ({
  memory: { bytes: memoryBytes, pages: 1 },
  cpu: { busyMs },
  bytes: { in: 10, out: 20 },
  restarts: 0,
  engine: 'v8+jco@1',
});

/** Moves a device's samples back in time, as if they had been taken that long ago. */
const age = (deviceId: string, interval: string) =>
  api.h.cp.deps.store.query(`UPDATE device_usage_samples SET at = at - $2::interval WHERE device_id = $1`, [deviceId, interval]);

async function history(deviceId: string, query = ''): Promise<UsageHistory> {
  const answer = await operator('GET', `/api/v1/admin/devices/${deviceId}/usage${query}`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.headers['cache-control']).toBe('no-store');
  return usageHistorySchema.parse(answer.body);
}

describe('the usage history', () => {
  it('samples the usage status reports carry, at most one per device and deployment per interval', async () => {
    const before = Date.now();
    await report('use-1', 'meter-a', usage(65536, 5));
    const first = await history('use-1');
    expect(first).toMatchObject({ deviceId: 'use-1', intervalSeconds: 60, truncated: false });
    expect(first.samples).toEqual([
      { deploymentId: 'meter-a', version: '1.0.0', at: expect.any(String), memoryBytes: 65536, cpuBusyMs: 5, bytesIn: 10, bytesOut: 20, restarts: 0 },
    ]);
    expect(Date.parse(first.samples[0]!.at)).toBeGreaterThan(before - 60_000);

    // Within the interval: the status keeps the newest figures, the history adds none; nor does a report without usage.
    await report('use-1', 'meter-a', usage(131072, 9));
    await report('use-1', 'meter-a', null);
    expect((await history('use-1')).samples.map((s) => s.cpuBusyMs)).toEqual([5]);
    const status = await operator('GET', '/api/v1/admin/deployments/meter-a/status');
    expect(status.body.usage['use-1'].cpu).toEqual({ busyMs: 9 });

    // Once the interval has passed, the next report is sampled; another deployment has its own interval.
    await age('use-1', '61 seconds');
    await report('use-1', 'meter-a', usage(131072, 12));
    await report('use-1', 'meter-b', usage(4096, 1));
    const later = await history('use-1');
    expect(later.samples.map((s) => `${s.deploymentId}:${s.cpuBusyMs}`)).toEqual([
      'meter-a:5',
      expect.stringMatching(/^meter-[ab]:(12|1)$/),
      expect.stringMatching(/^meter-[ab]:(12|1)$/),
    ]);
    expect(later.samples.map((s) => Date.parse(s.at))).toEqual([...later.samples.map((s) => Date.parse(s.at))].sort((a, b) => a - b));
    expect((await history('use-1', '?deploymentId=meter-b')).samples.map((s) => s.memoryBytes)).toEqual([4096]);
  });

  it('keeps a figure that is not a number as null, for a hierarchical device id too', async () => {
    await report('gw/use-3', 'meter-a', { memory: { bytes: { heap: 1 } }, cpu: { busyMs: 3 } });
    const got = await history('gw/use-3');
    expect(got.samples).toEqual([expect.objectContaining({ memoryBytes: null, cpuBusyMs: 3, bytesIn: null, restarts: null })]);
  });

  it('answers the newest samples since a time, oldest first, and says when it left older ones out', async () => {
    for (let minute = 0; minute < 5; minute++) {
      await report('use-2', 'meter-a', usage(1000, minute));
      await age('use-2', '61 seconds');
    }
    const all = await history('use-2');
    expect(all.samples.map((s) => s.cpuBusyMs)).toEqual([0, 1, 2, 3, 4]);
    const newest = await history('use-2', '?limit=2');
    expect([newest.samples.map((s) => s.cpuBusyMs), newest.truncated]).toEqual([[3, 4], true]);
    const since = await history('use-2', `?since=${encodeURIComponent(all.samples[3]!.at)}`);
    expect([since.samples.map((s) => s.cpuBusyMs), since.truncated]).toEqual([[3, 4], false]);
    expect((await history('use-2', '?since=2999-01-01T00:00:00Z')).samples).toEqual([]);
    // The far past is any instant the query admits, not a store error.
    expect((await history('use-2', '?since=0000-01-01T00:00:00%2B14:00')).samples).toHaveLength(5);
  });

  it('forgets samples older than the usage history at the periodic reconcile', async () => {
    await api.h.cp.deps.store.query(`UPDATE device_usage_samples SET at = now() - interval '31 days' WHERE device_id = 'use-2' AND cpu_busy_ms = 0`);
    // Another replica's (here, the harness's own) pass may hold the reconcile lock for a moment.
    await expect
      .poll(
        async () =>
          (await reconcileOnce({ store: api.h.cp.deps.store, changed: async () => {}, staleAfterMs: 3_600_000, overlapMs: 0, usageHistoryDays: 30 })).skipped,
      )
      .toBe(false);
    expect((await history('use-2', '?deploymentId=meter-a')).samples.map((s) => s.cpuBusyMs)).toEqual([1, 2, 3, 4]);
  });

  it('refuses a bad query or device id naming the parameter, an unknown device with 404, and anyone but operators', async () => {
    for (const [path, field] of [
      ['use-1/usage?since=yesterday', 'since'],
      ['use-1/usage?since=2026-02-30T00:00:00Z', 'since'],
      ['use-1/usage?limit=0', 'limit'],
      [`use-1/usage?limit=${USAGE_HISTORY_MAX + 1}`, 'limit'],
      ['use-1/usage?limit=abc', 'limit'],
      ['use-1/usage?deploymentId=Not_A_Deployment', 'deploymentId'],
      ['use-1/usage?colour=red', 'query'],
      ['gw/workload/acme/meter/usage', 'deviceId'],
    ]) {
      const answer = await operator('GET', `/api/v1/admin/devices/${path}`);
      expect(answer.status, path).toBe(400);
      expect(answer.body.code).toBe('request.bad_parameter');
      expect(
        answer.body.errors.map((e: { field: string }) => e.field),
        path,
      ).toContain(field);
    }
    const unknown = await operator('GET', '/api/v1/admin/devices/no-such/usage');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'device.unknown']);
    expect((await api.as('vendor:acme')('GET', '/api/v1/admin/devices/use-1/usage')).status).toBe(403);
    expect((await call(`${api.h.cp.url}/api/v1/admin/devices/use-1/usage`, { ca: api.h.ca })).status).toBe(401);
  });
});
