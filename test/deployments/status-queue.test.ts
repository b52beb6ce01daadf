import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { createDeployment } from '../../orchestrator/deployments/admission.js';
import { storePlacementSource } from '../../orchestrator/deployments/placement-source.js';
import { startRollingUpdate } from '../../orchestrator/deployments/rollout.js';
import { deploymentBody } from '../../orchestrator/deployments/schema.js';
import { StatusReportQueue } from '../../orchestrator/deployments/status-queue.js';
import { aggregateStatus, type DeviceReport } from '../../orchestrator/deployments/status.js';
import { DesiredStateService } from '../../orchestrator/desired-state/service.js';
import { loadOrCreateSigner } from '../../orchestrator/desired-state/signing-key.js';
import * as deployments from '../../orchestrator/store/deployments.js';
import { openStore, type Store } from '../../orchestrator/store/store.js';
import { offlineAdmission } from '../support/verified-catalog.js';
import { addCatalog, addDevice } from './fixtures.js';

// Status reports written in shared transactions (group commit), each still answered on its own.
let dir: string;
let store: Store;
let svc: DesiredStateService;
const devicesOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-status-queue-'));
  store = await openStore({ kind: 'pglite', dataDir: join(dir, 'store') });
  svc = await DesiredStateService.open({
    store,
    placements: storePlacementSource,
    signer: await loadOrCreateSigner(join(dir, 'pki')),
    logger: silentLogger,
    issuer: 'spiffe://fleet.test',
  });
  await addCatalog(store);
});
afterAll(async () => {
  await svc?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The store, counting transactions, and failing the next `failBatches` that write more than one report. */
function counting(failBatches = 0): Store & { transactions: number } {
  const wrapped = {
    ...store,
    transactions: 0,
    transaction<T>(work: Parameters<Store['transaction']>[0]): Promise<T> {
      wrapped.transactions++;
      return store.transaction(async (tx) => {
        const query: typeof tx.query = async (sql, params) => {
          if (failBatches > 0 && sql.includes('unnest($1::int[]') && (params?.[0] as number[]).length > 1) {
            failBatches--;
            throw new Error('injected: the shared transaction fails');
          }
          return tx.query(sql, params);
        };
        return work({ query }) as Promise<T>;
      });
    },
  };
  return wrapped;
}

const report = (deploymentId: string, deviceId: string, adoptedManifestVersion: number, state: DeviceReport['state'] = 'installed'): DeviceReport => ({
  deploymentId,
  deviceId,
  state,
  error: state === 'failed' ? { code: 'E1', message: 'trap at start' } : null,
  components: [],
  adoptedManifestVersion,
  usage: null,
});

describe('status report queue', () => {
  it('writes reports that arrive together in one transaction, each with its own outcome', async () => {
    const ids = devicesOf('q', 5);
    for (const id of [...ids, 'q-outside']) await addDevice(store, id, { labels: { line: id === 'q-outside' ? 'other' : 'q' } });
    await createDeployment(
      store,
      deploymentBody.parse({ id: 'batch', app: 'sensor', version: '1.0.0', grants: {}, deviceIds: ids }),
      'test',
      svc.changed,
      offlineAdmission(),
    );
    const v = (await svc.manifest('q1')).manifestVersion;
    const db = counting();
    const queue = new StatusReportQueue(db, svc.changed);
    const outcomes = await Promise.all([
      queue.record(report('batch', 'q1', v)),
      queue.record(report('batch', 'q2', v)),
      queue.record(report('batch', 'q3', v + 5)),
      queue.record(report('batch', 'q-outside', 1)),
      // Two reports from one device: written in arrival order, the second in the next transaction.
      queue.record(report('batch', 'q4', v, 'installing')),
      queue.record(report('batch', 'q4', v, 'installed')),
    ]);
    expect(outcomes).toEqual(['created', 'created', 'ahead', 'not-placed', 'created', 'updated']);
    expect(db.transactions).toBe(2);
    const status = await aggregateStatus(store, 'batch');
    expect(status.counts).toMatchObject({ installed: 3, pending: 2 });
  });

  it('answers each report on its own when the shared transaction fails, leaving nothing half-written', async () => {
    const ids = devicesOf('f', 3);
    for (const id of ids) await addDevice(store, id);
    await createDeployment(
      store,
      deploymentBody.parse({ id: 'fallback', app: 'sensor', version: '1.0.0', grants: {}, deviceIds: ids }),
      'test',
      svc.changed,
      offlineAdmission(),
    );
    const v = (await svc.manifest('f1')).manifestVersion;
    const db = counting(1);
    const queue = new StatusReportQueue(db, svc.changed);
    const outcomes = await Promise.all([
      queue.record(report('fallback', 'f1', v)),
      queue.record(report('fallback', 'f2', v, 'failed')),
      queue.record(report('fallback', 'f3', v + 1)),
    ]);
    expect(outcomes).toEqual(['created', 'created', 'ahead']);
    // One shared attempt (rolled back), then one per report.
    expect(db.transactions).toBe(4);
    const status = await aggregateStatus(store, 'fallback');
    expect(status.counts).toMatchObject({ installed: 1, failed: 1, pending: 1 });
    // The refused report left f3 without one: absent, not "pending" by its word.
    expect(status.reports).toEqual({ f1: { version: '1.0.0', state: 'installed' }, f2: { version: '1.0.0', state: 'failed' } });
  });

  it('moves a rolling update on once per batch, from the reports of its whole wave', async () => {
    const ids = devicesOf('r', 4);
    for (const id of ids) await addDevice(store, id);
    await createDeployment(
      store,
      deploymentBody.parse({ id: 'waves', app: 'sensor', version: '1.0.0', grants: {}, deviceIds: ids, rollout: { batchSize: 2 } }),
      'test',
      svc.changed,
      offlineAdmission(),
    );
    await store.transaction((tx) => startRollingUpdate(tx, 'waves', '1.1.0', undefined, svc.changed));
    const queue = new StatusReportQueue(store, svc.changed);
    const wave = await Promise.all(['r1', 'r2'].map(async (id) => queue.record(report('waves', id, (await svc.manifest(id)).manifestVersion))));
    expect(wave).toEqual(['created', 'created']);
    expect((await aggregateStatus(store, 'waves')).versions).toEqual({ '1.1.0': 4 });
    const last = await Promise.all(['r3', 'r4'].map(async (id) => queue.record(report('waves', id, (await svc.manifest(id)).manifestVersion))));
    expect(last).toEqual(['created', 'created']);
    expect((await deployments.getDeployment(store, 'waves'))!.rollout.state).toBe('done');
  });
});
