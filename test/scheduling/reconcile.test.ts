import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import type { DesiredStateChanged } from '../../orchestrator/desired-state/placement.js';
import type { PlacementSpec } from '../../orchestrator/scheduling/plan.js';
import { DevicePresence } from '../../orchestrator/scheduling/presence.js';
import { reconcileOnce, startReconciler, type ReconcileResult } from '../../orchestrator/scheduling/reconcile.js';
import { rescheduleDeployment } from '../../orchestrator/scheduling/scheduler.js';
import * as deployments from '../../orchestrator/store/deployments.js';
import { healthOf } from '../../orchestrator/store/device-health.js';
import * as placements from '../../orchestrator/store/placements.js';
import { openStore, type Queryable, type Store } from '../../orchestrator/store/store.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

const caps = (labels: Record<string, string> = {}) =>
  JSON.stringify({
    properties: { id: 'x', vendor: 'acme', modelNumber: 'm', serialNumber: 's', cpus: [{ cores: 4, architecture: 'arm64' }], memory: '4Gi' },
    labels,
  });

async function seed(q: Queryable, devices: string[]): Promise<void> {
  await q.query(`INSERT INTO vendors (name) VALUES ('acme')`);
  await q.query(`INSERT INTO apps (id, vendor) VALUES ('sensor', 'acme')`);
  await q.query(
    `INSERT INTO app_versions (app_id, version, repository, digest, size_bytes, imports) VALUES ('sensor', '1.0.0', 'oci://registry.test/acme/sensor', $1, 1, '[]'::jsonb)`,
    [`sha256:${'1'.repeat(64)}`],
  );
  for (const id of devices) {
    await q.query(`INSERT INTO devices (id, status, onboarding_method) VALUES ($1, 'active', 'test')`, [id]);
    await q.query(`INSERT INTO device_capabilities (device_id, manifest) VALUES ($1, $2::jsonb)`, [id, caps({ line: 'north' })]);
  }
}

async function deploy(store: Store, id: string, placement: PlacementSpec, changed: DesiredStateChanged): Promise<void> {
  await store.transaction(async (tx) => {
    await deployments.insertDeployment(tx, {
      id,
      appId: 'sensor',
      version: '1.0.0',
      grants: {},
      tier: 'worker',
      limits: null,
      parameters: null,
      placement,
      createdBy: 'test',
      batchSize: 1,
    });
    await rescheduleDeployment(tx, (await deployments.getDeployment(tx, id))!, changed);
  });
}

const on = async (q: Queryable, deploymentId: string) => (await placements.placementsOfDeployment(q, deploymentId)).map((p) => p.deviceId);

function recorder(): DesiredStateChanged & { heard: Set<string> } {
  const heard = new Set<string>();
  return Object.assign(async (_tx: Queryable, ids: readonly string[]) => void ids.forEach((id) => heard.add(id)), { heard });
}

const stores: { name: string; open(dir: string): Promise<{ store: Store; other?: Store; stop(): Promise<void> }> }[] = [
  {
    name: 'PGlite',
    async open(dir) {
      const store = await openStore({ kind: 'pglite', dataDir: join(dir, 'store') });
      return { store, stop: () => store.close() };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const pg: PostgresServer = await startPostgres();
      const store = await openStore({ kind: 'postgres', url: pg.url });
      const other = await openStore({ kind: 'postgres', url: pg.url });
      return {
        store,
        other,
        async stop() {
          await store.close();
          await other.close();
          await pg.stop();
        },
      };
    },
  },
];

describe.each(stores)('periodic reconcile ($name)', ({ open }) => {
  let dir: string;
  let env: Awaited<ReturnType<(typeof stores)[number]['open']>>;
  const changed = recorder();
  const options = () => ({ store: env.store, changed, staleAfterMs: 5_000, overlapMs: 1_000 });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-reconcile-'));
    env = await open(dir);
    await seed(env.store, ['d1', 'd2', 'd3']);
    await deploy(env.store, 'everywhere', { mode: { kind: 'every' } }, changed);
    await deploy(env.store, 'one-of', { mode: { kind: 'spread', replicas: 1 } }, changed);
  });
  afterAll(async () => {
    await env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the first pass sweeps every deployment; later passes look only at what changed', async () => {
    const first = await reconcileOnce(options());
    expect(first).toEqual({ skipped: false, stale: [], rescheduled: 'all', pausedRollouts: [] });
    const second = await reconcileOnce(options());
    expect(second).toMatchObject({ skipped: false, stale: [] });
  });

  it('a device that stops polling becomes unknown: its spread instance moves, its every-device placement stays; back, it is healthy', async () => {
    expect(await on(env.store, 'one-of')).toEqual(['d1']);
    const presence = new DevicePresence();
    const now = Date.now();
    presence.seen('d1', now - 60_000);
    presence.seen('d2', now);
    presence.seen('d3', now);
    presence.seen('no-such-device', now); // ignored, not an error
    await presence.flush(env.store);
    changed.heard.clear();
    const result = await reconcileOnce(options());
    expect(result).toMatchObject({ skipped: false, stale: ['d1'] });
    expect((await healthOf(env.store, 'd1'))?.health).toBe('unknown');
    expect(await on(env.store, 'one-of')).toEqual(['d2']);
    expect(await on(env.store, 'everywhere')).toEqual(['d1', 'd2', 'd3']);
    // Both devices whose placements changed get a new manifest in the same transaction.
    expect([...changed.heard].sort()).toEqual(['d1', 'd2']);

    presence.seen('d1');
    await presence.flush(env.store);
    expect((await healthOf(env.store, 'd1'))?.health).toBe('healthy');
    const back = await reconcileOnce(options());
    expect(back).toMatchObject({ skipped: false, stale: [] });
    // No churn: the instance stays where it went.
    expect(await on(env.store, 'one-of')).toEqual(['d2']);
  });

  it("a device that reported capabilities but never polled goes stale by its report's age", async () => {
    await env.store.query(`INSERT INTO devices (id, status, onboarding_method) VALUES ('quiet', 'active', 'test')`);
    await env.store.query(`INSERT INTO device_capabilities (device_id, manifest, updated_at) VALUES ('quiet', $1::jsonb, now() - interval '1 hour')`, [caps()]);
    const result = await reconcileOnce(options());
    expect(result).toMatchObject({ skipped: false, stale: ['quiet'] });
    expect((await healthOf(env.store, 'quiet'))?.health).toBe('unknown');
  });

  it('capabilities changed without the scheduler being told are picked up by the next pass', async () => {
    await deploy(
      env.store,
      'north-only',
      { mode: { kind: 'every' }, eligibilityRules: [{ labelSelector: { matchExpressions: [{ key: 'line', operator: 'In', values: ['north'] }] } }] },
      changed,
    );
    expect(await on(env.store, 'north-only')).toEqual(['d1', 'd2', 'd3']);
    await env.store.query(`UPDATE device_capabilities SET manifest = $2::jsonb, updated_at = now() WHERE device_id = $1`, ['d3', caps({ line: 'south' })]);
    const result = await reconcileOnce(options());
    expect(result).toMatchObject({ skipped: false });
    expect(await on(env.store, 'north-only')).toEqual(['d1', 'd2']);
  });

  it('one replica at a time: a pass while another holds the reconcile lock is skipped', async () => {
    if (!env.other) {
      // PGlite serves one transaction at a time: there is no second replica to contend with.
      expect(env.store.kind).toBe('pglite');
      return;
    }
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const acquired = new Promise<void>((r) => (holding = r));
    const holder = env.other.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [0x62657276]);
      holding();
      await held;
    });
    await acquired;
    try {
      expect(await reconcileOnce(options())).toEqual({ skipped: true });
    } finally {
      release();
      await holder;
    }
    expect(await reconcileOnce(options())).toMatchObject({ skipped: false });
  });

  it('the timer runs passes on its own, flushing presence first, until stopped', async () => {
    const presence = new DevicePresence();
    const passes: ReconcileResult[] = [];
    const reconciler = startReconciler({ ...options(), presence, logger: silentLogger, intervalMs: 20, jitter: 0.5, onPass: (r) => passes.push(r) });
    presence.seen('d2');
    const deadline = Date.now() + 20_000;
    while (passes.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await reconciler.stop();
    expect(passes.length).toBeGreaterThanOrEqual(2);
    expect(presence.pending).toBe(0);
    const count = passes.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(passes.length).toBe(count);
  });
});
