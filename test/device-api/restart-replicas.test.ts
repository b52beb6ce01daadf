import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { memoryPlacements, onboard, placement } from './support.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-device-restart-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const versionOf = async (h: Harness, d: Awaited<ReturnType<typeof onboard>>) => (await d.get(h, '/api/v1/deployments')).body.manifestVersion as number;

describe('manifestVersion across a restart (PGlite)', () => {
  it('keeps growing: never reused after the control plane restarts', async () => {
    const dataDir = join(work, 'cp');
    const placements = memoryPlacements();
    let h = await startHarness({ dataDir, placementSource: placements });
    const d = await onboard(h, 'kiln-1', work);
    try {
      expect(await versionOf(h, d)).toBe(1);
      for (let i = 0; i < 3; i++) await h.cp.deps.store.transaction((tx) => h.cp.desiredState.changed(tx, ['kiln-1']));
      expect(await versionOf(h, d)).toBe(4);
      // A rolled-back change allocates nothing.
      await expect(
        h.cp.deps.store.transaction(async (tx) => {
          await h.cp.desiredState.changed(tx, ['kiln-1']);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await versionOf(h, d)).toBe(4);
    } finally {
      await h.stop();
    }
    h = await startHarness({ dataDir, placementSource: placements });
    try {
      expect(await versionOf(h, d)).toBe(4);
      placements.set('kiln-1', [placement('kiln-1', 'kiln-monitor')]);
      await h.cp.deps.store.transaction((tx) => h.cp.desiredState.changed(tx, ['kiln-1']));
      expect(await versionOf(h, d)).toBe(5);
    } finally {
      await h.stop();
    }
  });
});

describe('two replicas on one PostgreSQL', () => {
  let pg: PostgresServer;
  let one: Harness;
  let two: Harness;
  const placements = memoryPlacements();
  beforeAll(async () => {
    pg = await startPostgres();
    one = await startHarness({ storeUrl: pg.url, dataDir: join(work, 'one'), placementSource: placements });
    // Replicas share the key directory (CA issuing key and desired-state signing key).
    cpSync(join(work, 'one', 'pki'), join(work, 'two', 'pki'), { recursive: true });
    two = await startHarness({ storeUrl: pg.url, dataDir: join(work, 'two'), placementSource: placements });
  });
  afterAll(async () => {
    await one?.stop();
    await two?.stop();
    await pg?.stop();
  });

  it('a change committed on one wakes a device long-polling on the other (LISTEN/NOTIFY)', async () => {
    const d = await onboard(one, 'oven-1', work);
    const first = await d.raw(two, '/api/v1/deployments');
    expect(first.status).toBe(200);
    const etag = first.headers.etag as string;
    const parked = d.raw(two, '/api/v1/deployments?wait=60', { 'if-none-match': etag });
    const deadline = Date.now() + 10_000;
    while (two.cp.desiredState.waiting === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(two.cp.desiredState.waiting).toBe(1);
    placements.set('oven-1', [placement('oven-1', 'oven-watch')]);
    await one.cp.deps.store.transaction((tx) => one.cp.desiredState.changed(tx, ['oven-1']));
    const sentinel = new Promise<'not woken'>((r) => setTimeout(() => r('not woken'), 30_000).unref());
    const answer = await Promise.race([parked, sentinel]);
    if (answer === 'not woken') throw new Error('replica two was not woken by the commit on replica one');
    expect(answer.status).toBe(200);
    const m = JSON.parse(answer.bytes.toString());
    expect(m.manifestVersion).toBe(2);
    expect(m.deployments[0].deploymentId).toBe('oven-watch');
    // Both replicas serve the same bytes and sign with the same key.
    const fromOne = await d.raw(one, '/api/v1/deployments');
    expect(fromOne.bytes.equals(answer.bytes)).toBe(true);
    expect((await d.get(one, '/api/v1/desired-state/keys')).body).toEqual((await d.get(two, '/api/v1/desired-state/keys')).body);
  });

  it('versions allocated on both replicas are strictly increasing, none reused', async () => {
    const d = await onboard(one, 'oven-2', work);
    await d.get(one, '/api/v1/deployments');
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? one : two).cp.deps.store.transaction((tx) => (i % 2 ? one : two).cp.desiredState.changed(tx, ['oven-2']))),
    );
    expect(await versionOf(two, d)).toBe(11);
  });
});
