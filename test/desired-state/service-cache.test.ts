import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import type { Placement } from '../../orchestrator/desired-state/placement.js';
import { DesiredStateService } from '../../orchestrator/desired-state/service.js';
import { loadOrCreateSigner } from '../../orchestrator/desired-state/signing-key.js';
import { openStore, type Store } from '../../orchestrator/store/store.js';
import { placement } from '../device-api/support.js';
import { addDevices, mapSource } from './support.js';

// The in-memory manifest and document caches must never serve what the store would not.
let dir: string;
let store: Store;
let svc: DesiredStateService;
const byDevice = new Map<string, Placement[]>();
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-ds-cache-'));
  store = await openStore({ kind: 'pglite', dataDir: join(dir, 'store') });
  svc = await DesiredStateService.open({
    store,
    placements: mapSource(byDevice, true),
    signer: await loadOrCreateSigner(join(dir, 'pki')),
    logger: silentLogger,
    issuer: 'spiffe://fleet.test',
  });
  await addDevices(store, ['a', 'b']);
});
afterAll(async () => {
  await svc?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const named = async (id: string) =>
  JSON.parse((await svc.manifest(id)).bytes.toString()) as {
    manifestVersion: number;
    bundle: { digest: string } | null;
    deployments: { deploymentId: string; digest: string }[];
  };

describe('desired-state caches', () => {
  it('a committed change is seen at once; a rolled-back one never', async () => {
    expect((await named('a')).deployments).toEqual([]);
    byDevice.set('a', [placement('a', 'meter')]);
    await store.transaction((tx) => svc.changed(tx, ['a']));
    const after = await named('a');
    expect(after.deployments.map((d) => d.deploymentId)).toEqual(['meter']);
    byDevice.set('a', [placement('a', 'meter'), placement('a', 'other')]);
    await expect(
      store.transaction(async (tx) => {
        await svc.changed(tx, ['a']);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await named('a')).toEqual(after);
  });

  it("documents: a device reads what its manifests named, never another device's, even when both are in memory", async () => {
    byDevice.set('a', [placement('a', 'meter')]);
    byDevice.set('b', [placement('b', 'meter')]);
    await store.transaction((tx) => svc.changed(tx, ['a', 'b']));
    const a = await named('a');
    const b = await named('b');
    const docA = a.deployments[0]!.digest;
    expect((await svc.document('a', docA))?.deploymentId).toBe('meter');
    expect((await svc.document('a', a.bundle!.digest))?.deploymentId).toBeNull();
    expect(await svc.document('b', docA)).toBeUndefined();
    expect(await svc.document('a', b.bundle!.digest)).toBeUndefined();
    // An earlier manifest's document stays readable (from the store) after the state moved on.
    byDevice.set('a', [placement('a', 'meter', { version: '2.0.0' })]);
    await store.transaction((tx) => svc.changed(tx, ['a']));
    expect((await named('a')).deployments[0]!.digest).not.toBe(docA);
    expect((await svc.document('a', docA))?.deploymentId).toBe('meter');
  });
});
