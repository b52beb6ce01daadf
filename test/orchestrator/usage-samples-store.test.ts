import { describe, expect, it } from 'vitest';
import { createDeployment } from '../../orchestrator/deployments/admission.js';
import { deploymentBody } from '../../orchestrator/deployments/schema.js';
import { recordDeviceStatuses, type DeviceReport } from '../../orchestrator/deployments/status.js';
import type { Store } from '../../orchestrator/store/store.js';
import { pruneUsageSamples, usageHistoryOf } from '../../orchestrator/store/usage-samples.js';
import { addDevice, recorder, useFleetStore } from '../deployments/fixtures.js';
import { storeBackends } from '../support/postgres.js';
import { offlineAdmission } from '../support/verified-catalog.js';

const stores = storeBackends('usage');

/** The usage history's SQL on both store back ends (the API and console tests run on PGlite only). */
describe.each(stores.each)('the usage history in the store (%s)', (_name, location) => {
  let store: Store;
  useFleetStore(
    location,
    (s) => (store = s),
    async (s) => {
      await s.query('TRUNCATE device_usage_samples');
      for (const id of ['u1', 'u2']) await addDevice(s, id);
      const body = deploymentBody.parse({ id: 'meter', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['u1'] });
      await createDeployment(s, body, 'test', recorder(), offlineAdmission());
    },
  );

  const report = (deviceId: string, busyMs: number): DeviceReport => ({
    deploymentId: 'meter',
    deviceId,
    state: 'installed',
    error: null,
    components: [],
    adoptedManifestVersion: null,
    usage: { memory: { bytes: busyMs * 10 }, cpu: { busyMs } },
  });
  const record = (reports: DeviceReport[]) => store.transaction((tx) => recordDeviceStatuses(tx, reports, recorder()));
  const busy = async () => (await usageHistoryOf(store, 'u1', { limit: 100 })).samples.map((s) => s.cpuBusyMs);

  it('samples recorded reports in their batch, at most once per interval, and prunes by age', async () => {
    // u2 is not placed: its report is refused, and leaves no sample.
    expect(await record([report('u1', 1), report('u2', 1)])).toEqual(['created', 'not-placed']);
    expect(await busy()).toEqual([1]);
    expect((await usageHistoryOf(store, 'u2', { limit: 100 })).samples).toEqual([]);
    expect(await record([report('u1', 2)])).toEqual(['updated']);
    expect(await busy()).toEqual([1]);
    await store.query(`UPDATE device_usage_samples SET at = at - interval '61 seconds'`);
    await record([report('u1', 3)]);
    expect(await busy()).toEqual([1, 3]);
    const since = new Date(Date.now() - 30_000).toISOString();
    expect((await usageHistoryOf(store, 'u1', { limit: 100, since })).samples.map((s) => s.memoryBytes)).toEqual([30]);

    await store.query(`UPDATE device_usage_samples SET at = now() - interval '8 days' WHERE cpu_busy_ms = 1`);
    expect(await pruneUsageSamples(store, 7)).toBe(1);
    expect(await busy()).toEqual([3]);
  });
});
