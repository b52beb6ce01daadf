import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import type { Placement } from '../../orchestrator/desired-state/placement.js';
import { DesiredStateService } from '../../orchestrator/desired-state/service.js';
import { loadOrCreateSigner } from '../../orchestrator/desired-state/signing-key.js';
import { notifyPayloads } from '../../orchestrator/desired-state/notify.js';
import { getManifests } from '../../orchestrator/store/desired-state.js';
import { openStore, type Store } from '../../orchestrator/store/store.js';
import { placement } from '../device-api/support.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { addDevices, mapSource } from './support.js';

// A batch of devices changed on one replica wakes every one of them waiting on the other.
let dir: string;
let pg: PostgresServer;
let storeOne: Store;
let storeTwo: Store;
let one: DesiredStateService;
let two: DesiredStateService;
const byDevice = new Map<string, Placement[]>();
const ids = Array.from({ length: 1000 }, (_, i) => `replica-device-${String(i).padStart(5, '0')}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-ds-replicas-'));
  pg = await startPostgres();
  storeOne = await openStore({ kind: 'postgres', url: pg.url });
  storeTwo = await openStore({ kind: 'postgres', url: pg.url });
  const signer = await loadOrCreateSigner(join(dir, 'pki'));
  const common = { placements: mapSource(byDevice, true), signer, logger: silentLogger, issuer: 'spiffe://fleet.test' };
  one = await DesiredStateService.open({ store: storeOne, ...common });
  two = await DesiredStateService.open({ store: storeTwo, ...common });
  await addDevices(storeOne, ids);
});
afterAll(async () => {
  await one?.close();
  await two?.close();
  await storeOne?.close();
  await storeTwo?.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('NOTIFY for a batch, two replicas on one PostgreSQL', () => {
  it("the payloads stay under PostgreSQL's 8000-byte limit and name every device once", () => {
    const payloads = notifyPayloads(ids);
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(8000);
    expect(payloads.flatMap((p) => p.split('\n'))).toEqual(ids);
  });

  it('one commit on replica one wakes all 1,000 devices parked on replica two, which then serve the new version', async () => {
    await storeOne.transaction((tx) => one.changed(tx, ids));
    const before = await getManifests(storeTwo, ids);
    const parked = ids.map((id) => two.waitForChange(id, 60_000).then(() => id));
    expect(two.waiting).toBe(ids.length);
    for (const id of ids) byDevice.set(id, [placement(id, 'meter-everywhere')]);
    await storeOne.transaction((tx) => one.changed(tx, ids));
    const sentinel = new Promise<'not woken'>((r) => setTimeout(() => r('not woken'), 30_000).unref());
    const woken = await Promise.race([Promise.all(parked), sentinel]);
    if (woken === 'not woken') throw new Error(`replica two still has ${two.waiting} waiters 30 s after the commit`);
    expect(woken.length).toBe(ids.length);
    // Replica two serves the new version (from its cache, preloaded before the wake) ...
    const served = await Promise.all(ids.map((id) => two.manifest(id)));
    const stored = await getManifests(storeOne, ids);
    for (const m of served) {
      expect(m.manifestVersion).toBe(before.get(m.deviceId)!.manifestVersion + 1);
      expect(JSON.parse(m.bytes.toString()).deployments[0].deploymentId).toBe('meter-everywhere');
      // ... which is exactly what replica one committed.
      expect(stored.get(m.deviceId)!.bytes.equals(m.bytes)).toBe(true);
    }
  });
});
