import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlacementSource } from '../../orchestrator/desired-state/placement.js';
import { renderDevices } from '../../orchestrator/desired-state/rerender.js';
import * as stored from '../../orchestrator/store/desired-state.js';
import { openStore, type Store } from '../../orchestrator/store/store.js';
import { placement } from '../device-api/support.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { addDevices } from './support.js';

// Found by the chaos test (test/chaos): a device's first poll rendered its manifest on one
// replica while its capabilities report placed a deployment on it on the other. The poll read
// the placements before the other commit, waited for the device's row, and then saved the next
// manifestVersion without the placement: the device adopted an empty state and never heard of
// the deployment again. A render must read placements only once it holds the device's row.
describe('rendering a device while another transaction places a deployment on it (PostgreSQL)', () => {
  let pg: PostgresServer;
  let store: Store;
  const device = 'press-race';
  beforeAll(async () => {
    pg = await startPostgres();
    store = await openStore({ kind: 'postgres', url: pg.url });
    await addDevices(store, [device]);
    await store.query('CREATE TABLE race_placements (device_id text NOT NULL)');
  });
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
  });

  // Placements as a committed table, so each transaction sees what PostgreSQL lets it see.
  const source: PlacementSource = {
    async placementsForDevice(db, deviceId) {
      const rows = await db.query('SELECT 1 FROM race_placements WHERE device_id = $1', [deviceId]);
      return rows.length > 0 ? [placement(deviceId, 'meter')] : [];
    },
  };

  it('the manifest saved last names the placement committed first', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let placed = false;
    const placing = store.transaction(async (tx) => {
      await tx.query('INSERT INTO race_placements (device_id) VALUES ($1)', [device]);
      await renderDevices(tx, source, [device]);
      placed = true;
      await gate;
    });
    for (let i = 0; i < 200 && !placed; i++) await new Promise((r) => setTimeout(r, 25));
    expect(placed).toBe(true);
    const polling = store.transaction((tx) => renderDevices(tx, source, [device]));
    // The second render waits for the device's row, held by the first; then the first commits.
    let waiting = 0;
    for (let i = 0; i < 200 && waiting === 0; i++) {
      waiting = (await store.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'"))[0]!.n;
      if (waiting === 0) await new Promise((r) => setTimeout(r, 25));
    }
    expect(waiting).toBe(1);
    release();
    await placing;
    const [second] = await polling;
    expect(second!.manifestVersion).toBe(2);
    const last = await stored.getManifest(store, device);
    const manifest = JSON.parse(last!.bytes.toString('utf8')) as { manifestVersion: number; deployments: { deploymentId: string }[] };
    expect(manifest.manifestVersion).toBe(2);
    expect(manifest.deployments.map((d) => d.deploymentId)).toEqual(['meter']);
  });
});
