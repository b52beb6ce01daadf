import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { createDeployment } from '../../orchestrator/deployments/admission.js';
import { storePlacementSource } from '../../orchestrator/deployments/placement-source.js';
import { rollback, startRollingUpdate } from '../../orchestrator/deployments/rollout.js';
import { deploymentBody } from '../../orchestrator/deployments/schema.js';
import { recordDeviceStatus } from '../../orchestrator/deployments/status.js';
import { DesiredStateService } from '../../orchestrator/desired-state/service.js';
import { loadOrCreateSigner } from '../../orchestrator/desired-state/signing-key.js';
import { rescheduleDevice } from '../../orchestrator/scheduling/scheduler.js';
import * as devices from '../../orchestrator/store/devices.js';
import { openStore, type Store } from '../../orchestrator/store/store.js';
import { addCatalog, addDevice, DIGEST_1, DIGEST_2 } from './fixtures.js';
import { offlineAdmission } from '../support/verified-catalog.js';

// The scheduler against the real desired-state side: placements become each device's Margo manifest.
let dir: string;
let store: Store;
let svc: DesiredStateService;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-seam-'));
  store = await openStore({ kind: 'pglite', dataDir: join(dir, 'store') });
  svc = await DesiredStateService.open({
    store,
    placements: storePlacementSource,
    signer: await loadOrCreateSigner(join(dir, 'pki')),
    logger: silentLogger,
    issuer: 'spiffe://fleet.test',
  });
  await addCatalog(store);
  for (const id of ['a', 'b']) await addDevice(store, id);
});
afterAll(async () => {
  await svc?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const manifestOf = async (deviceId: string) => {
  const m = await svc.manifest(deviceId);
  return { version: m.manifestVersion, body: JSON.parse(m.bytes.toString('utf8')) as { deployments: { deploymentId: string; digest: string }[] } };
};
const componentDigestIn = async (deviceId: string) => {
  const { body } = await manifestOf(deviceId);
  const doc = await svc.document(deviceId, body.deployments[0]!.digest);
  return doc!.bytes.toString('utf8').includes(DIGEST_2.slice('sha256:'.length))
    ? DIGEST_2
    : doc!.bytes.toString('utf8').includes(DIGEST_1.slice('sha256:'.length))
      ? DIGEST_1
      : 'none';
};

describe('scheduler → desired state', () => {
  it("a deployment reaches each placed device's manifest, version by version, and leaves it on revocation", async () => {
    const before = (await manifestOf('a')).version;
    await createDeployment(
      store,
      deploymentBody.parse({ id: 'seam', app: 'sensor', version: '1.0.0', grants: {}, rollout: { batchSize: 1 } }),
      'test',
      svc.changed,
      offlineAdmission(),
    );
    const first = await manifestOf('a');
    expect(first.version).toBeGreaterThan(before);
    expect(first.body.deployments.map((d) => d.deploymentId)).toEqual(['seam']);
    expect(await componentDigestIn('a')).toBe(DIGEST_1);

    // A rolling update: the first wave's device gets a new manifest naming the new component.
    await store.transaction((tx) => startRollingUpdate(tx, 'seam', '1.1.0', 1, svc.changed));
    expect(await componentDigestIn('a')).toBe(DIGEST_2);
    expect(await componentDigestIn('b')).toBe(DIGEST_1);
    const v = (await manifestOf('a')).version;
    // A report adopted from the manifest before (the old version, installed) is not about 1.1.0.
    const stale = await store.transaction((tx) =>
      recordDeviceStatus(
        tx,
        { deploymentId: 'seam', deviceId: 'a', state: 'installed', error: null, components: [], adoptedManifestVersion: v - 1 },
        svc.changed,
      ),
    );
    expect(stale).toBe('stale');
    expect(await componentDigestIn('b')).toBe(DIGEST_1);
    expect(
      await store.transaction((tx) =>
        recordDeviceStatus(
          tx,
          { deploymentId: 'seam', deviceId: 'a', state: 'failed', error: { message: 'no' }, components: [], adoptedManifestVersion: v },
          svc.changed,
        ),
      ),
    ).toBe('created');
    expect(await componentDigestIn('b')).toBe(DIGEST_1);
    await store.transaction((tx) => rollback(tx, 'seam', svc.changed));
    expect(await componentDigestIn('a')).toBe(DIGEST_1);
    expect((await manifestOf('a')).version).toBeGreaterThan(v);

    await devices.setDeviceStatus(store, 'b', 'revoked', 'test');
    await store.transaction((tx) => rescheduleDevice(tx, 'b', svc.changed));
    expect((await manifestOf('b')).body.deployments).toEqual([]);
  });
});
