import { describe, expect, it } from 'vitest';
import { createDeployment, removeDeployment } from '../../orchestrator/deployments/admission.js';
import { storePlacementSource } from '../../orchestrator/deployments/placement-source.js';
import { advance, rollback, startRollingUpdate } from '../../orchestrator/deployments/rollout.js';
import { deploymentBody } from '../../orchestrator/deployments/schema.js';
import { aggregateStatus, recordDeviceStatus } from '../../orchestrator/deployments/status.js';
import { rescheduleAll, rescheduleDevice } from '../../orchestrator/scheduling/scheduler.js';
import { getVendor } from '../../orchestrator/store/catalog.js';
import * as deployments from '../../orchestrator/store/deployments.js';
import * as devices from '../../orchestrator/store/devices.js';
import { placementsOfDeployment } from '../../orchestrator/store/placements.js';
import type { Store } from '../../orchestrator/store/store.js';
import { offlineAdmission } from '../support/verified-catalog.js';
import { storeBackends } from '../support/postgres.js';
import { addDevice, capabilities, DIGEST_1, DIGEST_2, recorder, setCapabilities, useFleetStore } from './fixtures.js';

const stores = storeBackends('sched');

const body = (o: Record<string, unknown>) => deploymentBody.parse({ app: 'sensor', version: '1.0.0', grants: { log: {} }, ...o });
const placed = async (store: Store, id: string) => (await placementsOfDeployment(store, id)).map((p) => `${p.deviceId}@${p.version}`);

describe.each(stores.each)('scheduling over the store (%s)', (_name, location) => {
  let store: Store;
  // Each case starts from an empty fleet and the catalog alone.
  useFleetStore(location, (s) => (store = s));

  it('every-device: placed on each eligible active device, never on revoked, pending or unreported ones; the seam hears of each', async () => {
    await addDevice(store, 'a', { labels: { site: 'north' } });
    await addDevice(store, 'b', { labels: { site: 'north' }, status: 'revoked' });
    await addDevice(store, 'c', { labels: { site: 'north' }, status: 'pending' });
    await addDevice(store, 'd', { labels: { site: 'north' }, caps: null });
    await addDevice(store, 'e', { labels: { site: 'south' } });
    await addDevice(store, 'f', { caps: capabilities({ labels: { site: 'north' } }) });
    const changed = recorder();
    const rules = [{ labelSelector: { matchExpressions: [{ key: 'site', operator: 'In', values: ['north'] }] } }];
    const { deployment, placement } = await createDeployment(
      store,
      body({ id: 'dep-1', deviceConstraints: { eligibilityRules: rules } }),
      'test',
      changed,
      offlineAdmission(),
    );
    expect(placement.added).toEqual(['a', 'f']);
    expect(changed.all()).toEqual(['a', 'f']);
    expect(await placed(store, deployment.id)).toEqual(['a@1.0.0', 'f@1.0.0']);
    // The seam: what the desired-state side reads for a device.
    const [p] = await storePlacementSource.placementsForDevice(store, 'a');
    // Effective grants: the defaults admission applied (docs/deployments.md "Grants").
    expect(p).toEqual({
      deploymentId: 'dep-1',
      deviceId: 'a',
      vendor: 'acme',
      app: 'sensor',
      version: '1.0.0',
      component: { repository: 'oci://registry.test/acme/sensor', digest: DIGEST_1, sizeBytes: 1000 },
      grants: { log: { linesPerSecond: 100, burst: 200 } },
      tier: 'worker',
      trustPolicy: (await getVendor(store, 'acme'))!.trustPolicy,
    });
    expect(await storePlacementSource.placementsForDevice(store, 'e')).toEqual([]);
    // A deployment stored before admission stored grants effective (as the operator wrote them)
    // renders with the same effective values as a new one.
    await store.query(`UPDATE deployments SET grants = '{"log": {}}'::jsonb WHERE id = 'dep-1'`);
    expect((await storePlacementSource.placementsForDevice(store, 'a'))[0]!.grants).toEqual({ log: { linesPerSecond: 100, burst: 200 } });
  });

  it('recomputes when a device reports capabilities, changes health, or is revoked', async () => {
    await addDevice(store, 'a');
    await addDevice(store, 'b', { caps: null });
    const rules = [{ propertySelector: { matchExpressions: [{ key: '/properties/cpus/0/cores', operator: 'Gt', values: ['2'] }] } }];
    await createDeployment(store, body({ id: 'dep-2', deviceConstraints: { eligibilityRules: rules } }), 'test', recorder(), offlineAdmission());
    expect(await placed(store, 'dep-2')).toEqual(['a@1.0.0']);
    const changed = recorder();
    await store.transaction(async (tx) => {
      await setCapabilities(tx, 'b', capabilities({ cores: 4 }));
      await rescheduleDevice(tx, 'b', changed);
    });
    expect(changed.all()).toEqual(['b']);
    expect(await placed(store, 'dep-2')).toEqual(['a@1.0.0', 'b@1.0.0']);
    // Capabilities drop below the rule: removed.
    await store.transaction(async (tx) => {
      await setCapabilities(tx, 'a', capabilities({ cores: 1 }));
      await rescheduleDevice(tx, 'a', changed);
    });
    expect(await placed(store, 'dep-2')).toEqual(['b@1.0.0']);
    // Revoked: the desired-state side already sees nothing, and the scheduler removes it.
    await devices.setDeviceStatus(store, 'b', 'revoked', 'test');
    expect(await storePlacementSource.placementsForDevice(store, 'b')).toEqual([]);
    await store.transaction((tx) => rescheduleDevice(tx, 'b', changed));
    expect(await placed(store, 'dep-2')).toEqual([]);
    // Nothing changed: nobody is told.
    const quiet = recorder();
    await store.transaction((tx) => rescheduleAll(tx, quiet));
    expect(quiet.calls).toEqual([]);
  });

  it('capacity already used is respected across deployments', async () => {
    await addDevice(store, 'small', { caps: capabilities({ memory: '1Gi' }) });
    await addDevice(store, 'big', { caps: capabilities({ memory: '2Gi' }) });
    const capacityRequirements = { memory: '768Mi' };
    await createDeployment(store, body({ id: 'one', deviceConstraints: { capacityRequirements } }), 'test', recorder(), offlineAdmission());
    await createDeployment(store, body({ id: 'two', deviceConstraints: { capacityRequirements } }), 'test', recorder(), offlineAdmission());
    expect(await placed(store, 'one')).toEqual(['big@1.0.0', 'small@1.0.0']);
    expect(await placed(store, 'two')).toEqual(['big@1.0.0']);
    // Recomputing one device counts every claim on it but the deployment's own: nothing moves.
    const quiet = recorder();
    await store.transaction(async (tx) => {
      await rescheduleDevice(tx, 'small', quiet);
      await rescheduleDevice(tx, 'big', quiet);
    });
    expect(quiet.calls).toEqual([]);
    // Shrinking big's memory: the younger deployment is the one that no longer fits there.
    await store.transaction(async (tx) => {
      await setCapabilities(tx, 'big', capabilities({ memory: '1Gi' }));
      await rescheduleDevice(tx, 'big', quiet);
    });
    expect(await placed(store, 'one')).toEqual(['big@1.0.0', 'small@1.0.0']);
    expect(await placed(store, 'two')).toEqual([]);
    await store.transaction(async (tx) => {
      await setCapabilities(tx, 'big', capabilities({ memory: '2Gi' }));
      await rescheduleDevice(tx, 'big', quiet);
    });
    expect(quiet.all()).toEqual(['big']);
    expect(await placed(store, 'two')).toEqual(['big@1.0.0']);
    // A full sweep gives the older deployment the same priority.
    await setCapabilities(store, 'big', capabilities({ memory: '1Gi' }));
    await store.transaction((tx) => rescheduleAll(tx, recorder()));
    expect(await placed(store, 'one')).toEqual(['big@1.0.0', 'small@1.0.0']);
    expect(await placed(store, 'two')).toEqual([]);
    await setCapabilities(store, 'big', capabilities({ memory: '2Gi' }));
    // Freeing capacity on small lets the second one in on the next sweep.
    await removeDeployment(store, 'one', recorder());
    await store.transaction((tx) => rescheduleAll(tx, recorder()));
    expect(await placed(store, 'two')).toEqual(['big@1.0.0', 'small@1.0.0']);
  });

  it('node-lock and spread', async () => {
    for (const id of ['n1', 'n2', 'n3', 'n4']) await addDevice(store, id);
    await createDeployment(store, body({ id: 'locked', deviceIds: ['n2', 'n4'] }), 'test', recorder(), offlineAdmission());
    expect(await placed(store, 'locked')).toEqual(['n2@1.0.0', 'n4@1.0.0']);
    // Spread over the least loaded: n1 and n3 carry nothing yet.
    await createDeployment(store, body({ id: 'spread', mode: 'spread', replicas: 2 }), 'test', recorder(), offlineAdmission());
    expect(await placed(store, 'spread')).toEqual(['n1@1.0.0', 'n3@1.0.0']);
    // Losing one instance's device: replaced elsewhere, the other stays.
    const changed = recorder();
    await devices.setDeviceStatus(store, 'n1', 'revoked', 'test');
    await store.transaction((tx) => rescheduleDevice(tx, 'n1', changed));
    expect(await placed(store, 'spread')).toEqual(['n2@1.0.0', 'n3@1.0.0']);
    expect(changed.all()).toEqual(['n1', 'n2']);
  });

  it('a rolling update moves in waves, pauses on a failure, and rolls back on request', async () => {
    for (const id of ['r1', 'r2', 'r3', 'r4', 'r5']) await addDevice(store, id);
    await createDeployment(store, body({ id: 'roll', rollout: { batchSize: 2 } }), 'test', recorder(), offlineAdmission());
    const report = (deviceId: string, state: 'installed' | 'failed' | 'installing', changed = recorder()) =>
      store.transaction((tx) =>
        recordDeviceStatus(
          tx,
          {
            deploymentId: 'roll',
            deviceId,
            state,
            error: state === 'failed' ? { code: 'E1', message: 'trap at start' } : null,
            components: [],
            adoptedManifestVersion: 1,
          },
          changed,
        ),
      );
    for (const id of ['r1', 'r2', 'r3', 'r4', 'r5']) expect(await report(id, 'installed')).toBe('created');

    const wave1 = recorder();
    expect(await store.transaction((tx) => startRollingUpdate(tx, 'roll', '1.1.0', undefined, wave1))).toBe('next-wave');
    expect(wave1.all()).toEqual(['r1', 'r2']);
    expect(await placed(store, 'roll')).toEqual(['r1@1.1.0', 'r2@1.1.0', 'r3@1.0.0', 'r4@1.0.0', 'r5@1.0.0']);
    // New version's devices count as pending until they report on it.
    expect((await aggregateStatus(store, 'roll')).counts).toMatchObject({ pending: 2, installed: 3 });
    // The wave waits for all its devices.
    const wave2 = recorder();
    await report('r1', 'installed', wave2);
    expect(wave2.calls).toEqual([]);
    await report('r2', 'installed', wave2);
    expect(wave2.all()).toEqual(['r3', 'r4']);
    // A failure in the second wave pauses the rollout: no third wave.
    const after = recorder();
    await report('r3', 'failed', after);
    await report('r4', 'installed', after);
    expect(after.calls).toEqual([]);
    expect((await deployments.getDeployment(store, 'roll'))!.rollout.state).toBe('paused');
    expect(await store.transaction((tx) => advance(tx, 'roll', after))).toBe('not-rolling');
    const status = await aggregateStatus(store, 'roll');
    expect(status.counts).toMatchObject({ installed: 4, failed: 1 });
    expect(status.versions).toEqual({ '1.0.0': 1, '1.1.0': 4 });
    expect(status.errors).toEqual([{ deviceId: 'r3', version: '1.1.0', error: { code: 'E1', message: 'trap at start' } }]);
    // A second rollout is refused while paused; rollback moves every device back at once.
    await expect(store.transaction((tx) => startRollingUpdate(tx, 'roll', '1.0.0', 1, recorder()))).rejects.toMatchObject({ status: 409 });
    const back = recorder();
    expect(await store.transaction((tx) => rollback(tx, 'roll', back))).toBe('1.0.0');
    expect(back.all()).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(await placed(store, 'roll')).toEqual(['r1@1.0.0', 'r2@1.0.0', 'r3@1.0.0', 'r4@1.0.0', 'r5@1.0.0']);
    const d = (await deployments.getDeployment(store, 'roll'))!;
    expect(d.version).toBe('1.0.0');
    expect(d.rollout.state).toBe('rolled-back');
    await expect(store.transaction((tx) => rollback(tx, 'roll', recorder()))).rejects.toMatchObject({ status: 409 });
    // The seam serves the old digest again.
    expect((await storePlacementSource.placementsForDevice(store, 'r1'))[0]!.component.digest).toBe(DIGEST_1);
  });

  it('a rolling update with no failures completes, and the new version becomes the deployment version', async () => {
    for (const id of ['s1', 's2', 's3']) await addDevice(store, id);
    await createDeployment(store, body({ id: 'ok', rollout: { batchSize: 2 } }), 'test', recorder(), offlineAdmission());
    const report = (deviceId: string) =>
      store.transaction((tx) =>
        recordDeviceStatus(tx, { deploymentId: 'ok', deviceId, state: 'installed', error: null, components: [], adoptedManifestVersion: 2 }, recorder()),
      );
    await store.transaction((tx) => startRollingUpdate(tx, 'ok', '1.1.0', undefined, recorder()));
    await report('s1');
    await report('s2');
    expect(await placed(store, 'ok')).toEqual(['s1@1.1.0', 's2@1.1.0', 's3@1.1.0']);
    await report('s3');
    const d = (await deployments.getDeployment(store, 'ok'))!;
    expect(d).toMatchObject({ version: '1.1.0', rollout: { state: 'done', targetVersion: null, previousVersion: '1.0.0' } });
    expect((await storePlacementSource.placementsForDevice(store, 's3'))[0]!.component.digest).toBe(DIGEST_2);
    // A report for a deployment not on the device is not recorded.
    await addDevice(store, 'elsewhere');
    expect(
      await store.transaction((tx) =>
        recordDeviceStatus(
          tx,
          { deploymentId: 'ok', deviceId: 'elsewhere', state: 'installed', error: null, components: [], adoptedManifestVersion: 1 },
          recorder(),
        ),
      ),
    ).toBe('not-placed');
  });

  it('admission is whole or nothing: a refused deployment leaves no row and no placement', async () => {
    await addDevice(store, 'x1');
    const changed = recorder();
    await expect(createDeployment(store, body({ id: 'bad', deviceIds: ['x1', 'ghost'] }), 'test', changed, offlineAdmission())).rejects.toMatchObject({
      status: 422,
      extras: { errors: [{ field: 'deviceIds.1' }] },
    });
    await expect(createDeployment(store, body({ id: 'bad', version: '9.9.9' }), 'test', changed, offlineAdmission())).rejects.toMatchObject({
      status: 422,
      extras: { errors: [{ field: 'version' }] },
    });
    // A placement failure inside the transaction (the seam throws) undoes the deployment too.
    const failing = async () => {
      throw new Error('desired state down');
    };
    await expect(createDeployment(store, body({ id: 'bad' }), 'test', failing, offlineAdmission())).rejects.toThrow('desired state down');
    expect(await deployments.getDeployment(store, 'bad')).toBeUndefined();
    expect(await placed(store, 'bad')).toEqual([]);
    expect(changed.calls).toEqual([]);
  });
});
