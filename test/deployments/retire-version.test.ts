import { describe, expect, it } from 'vitest';
import { retireVersion } from '../../orchestrator/catalog/service.js';
import { createDeployment } from '../../orchestrator/deployments/admission.js';
import { rollback, startRollingUpdate } from '../../orchestrator/deployments/rollout.js';
import { deploymentBody } from '../../orchestrator/deployments/schema.js';
import { recordDeviceStatus } from '../../orchestrator/deployments/status.js';
import * as catalog from '../../orchestrator/store/catalog.js';
import { getDeployment } from '../../orchestrator/store/deployments.js';
import type { Store } from '../../orchestrator/store/store.js';
import { offlineAdmission } from '../support/verified-catalog.js';
import { storeBackends } from '../support/postgres.js';
import { addDevice, DIGEST_1, recorder, useFleetStore } from './fixtures.js';

const stores = storeBackends('retire');

const body = (o: Record<string, unknown>) => deploymentBody.parse({ app: 'sensor', version: '1.0.0', grants: { log: {} }, ...o });
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: { status?: number; code?: string; message?: string; extras?: { errors?: { field: string }[] } }) => ({
      status: err.status,
      code: err.code,
      message: err.message,
      fields: err.extras?.errors?.map((e) => e.field),
    }),
  );

describe.each(stores.each)('retiring a catalog version (%s)', (_name, location) => {
  let store: Store;
  // acme/sensor 1.0.0 and 1.1.0, device a
  useFleetStore(
    location,
    (s) => (store = s),
    (s) => addDevice(s, 'a'),
  );

  it('removes an unused version, which then cannot be deployed, and can be registered again', async () => {
    const retired = await retireVersion(store, 'vendor:acme', 'sensor', '1.0.0');
    expect(retired.component.digest).toBe(DIGEST_1);
    expect((await catalog.listVersions(store, 'sensor')).map((v) => v.version)).toEqual(['1.1.0']);
    expect(await catalog.versionArtifacts(store)).toHaveLength(1);
    expect(await refusal(createDeployment(store, body({ id: 'late' }), 'test', recorder(), offlineAdmission()))).toMatchObject({
      status: 422,
      code: 'deployment.unknown_version',
      fields: ['version'],
    });
    // Same number again: a new row (admission would run in full; here the store insert it ends with).
    expect(
      await catalog.insertVersion(store, {
        appId: 'sensor',
        version: '1.0.0',
        component: { repository: 'oci://registry.test/acme/sensor', digest: DIGEST_1, sizeBytes: 1 },
        imports: [],
      }),
    ).toBe(true);
  });

  it('answers 404 for an unknown app or version, 403 for another vendor, 422 for a malformed version', async () => {
    expect(await refusal(retireVersion(store, 'admin', 'sensor', '9.9.9'))).toMatchObject({ status: 404, code: 'catalog.unknown_version' });
    expect(await refusal(retireVersion(store, 'admin', 'nothing', '1.0.0'))).toMatchObject({ status: 404, code: 'catalog.unknown_app' });
    expect(await refusal(retireVersion(store, 'vendor:globex', 'sensor', '1.0.0'))).toMatchObject({ status: 403, code: 'catalog.other_vendor' });
    expect(await refusal(retireVersion(store, 'admin', 'sensor', 'v1.0.0'))).toMatchObject({ status: 422, fields: ['version'] });
    expect(await catalog.listVersions(store, 'sensor')).toHaveLength(2);
  });

  it('is refused while a deployment runs it, rolls to it, or can roll back to it; allowed once none does', async () => {
    await createDeployment(store, body({ id: 'dep-1' }), 'test', recorder(), offlineAdmission());
    expect(await refusal(retireVersion(store, 'admin', 'sensor', '1.0.0'))).toMatchObject({
      status: 409,
      code: 'catalog.version_in_use',
      message: expect.stringContaining('dep-1 (current, placed)'),
      fields: ['deployments.dep-1'],
    });
    // Rolling to 1.1.0: 1.1.0 is the target, 1.0.0 still current.
    await store.transaction((tx) => startRollingUpdate(tx, 'dep-1', '1.1.0', 1, recorder()));
    expect(await refusal(retireVersion(store, 'admin', 'sensor', '1.1.0'))).toMatchObject({
      status: 409,
      message: expect.stringContaining('dep-1 (rollout target, placed)'),
    });
    // The rollout completes: 1.1.0 current, 1.0.0 the version a rollback returns to.
    await store.transaction((tx) =>
      recordDeviceStatus(tx, { deploymentId: 'dep-1', deviceId: 'a', state: 'installed', error: null, components: [], adoptedManifestVersion: 1 }, recorder()),
    );
    expect((await getDeployment(store, 'dep-1'))?.rollout).toMatchObject({ state: 'done', previousVersion: '1.0.0' });
    expect(await refusal(retireVersion(store, 'admin', 'sensor', '1.0.0'))).toMatchObject({
      status: 409,
      message: expect.stringContaining('dep-1 (rollback target)'),
    });
    // After the rollback, 1.0.0 is current again and 1.1.0 is needed by nothing.
    await store.transaction((tx) => rollback(tx, 'dep-1', recorder()));
    expect((await retireVersion(store, 'admin', 'sensor', '1.1.0')).version).toBe('1.1.0');
    expect((await catalog.listVersions(store, 'sensor')).map((v) => v.version)).toEqual(['1.0.0']);
  });

  it('a deployment racing a retirement of its version gets the ordinary 422, never an error from the foreign key', async () => {
    // A retirement that has locked and deleted the row but not committed yet (PGlite runs one
    // transaction at a time, so the interleaving is only possible on PostgreSQL).
    let deleted!: () => void;
    const rowGone = new Promise<void>((r) => (deleted = r));
    const retiring = store.transaction(async (tx) => {
      await catalog.getVersion(tx, 'sensor', '1.0.0', 'update');
      await catalog.deleteVersion(tx, 'sensor', '1.0.0');
      deleted();
      await new Promise((r) => setTimeout(r, 300));
    });
    if (store.kind === 'postgres') await rowGone;
    const deploying = refusal(createDeployment(store, body({ id: 'racer' }), 'test', recorder(), offlineAdmission()));
    await retiring;
    expect(await deploying).toMatchObject({ status: 422, code: 'deployment.unknown_version' });
    expect(await getDeployment(store, 'racer')).toBeUndefined();
  });
});
