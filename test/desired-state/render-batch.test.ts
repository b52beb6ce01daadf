import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBundle, renderDeployment } from '../../orchestrator/desired-state/render.js';
import { batchRenderer, renderBundleFast } from '../../orchestrator/desired-state/render-batch.js';
import { RENDER_BATCH, renderDevices } from '../../orchestrator/desired-state/rerender.js';
import { tarFiles } from '../../orchestrator/desired-state/tar.js';
import * as stored from '../../orchestrator/store/desired-state.js';
import { openStore, type Store } from '../../orchestrator/store/store.js';
import { placement } from '../device-api/support.js';
import { addDevices, DEVICE_IDS, mapSource, placementsFor, referenceState } from './support.js';

describe('batch rendering gives the per-device bytes', () => {
  it('documents: the template path equals renderDeployment for every kind of device id and placement', () => {
    const render = batchRenderer();
    let n = 0;
    for (const [i, id] of DEVICE_IDS.entries()) {
      for (const p of placementsFor(id, i)) {
        const batch = render(p);
        const one = renderDeployment(p);
        expect(batch.digest, `${id} / ${p.deploymentId}`).toBe(one.digest);
        expect(batch.bytes.equals(one.bytes)).toBe(true);
        n++;
      }
    }
    expect(n).toBeGreaterThan(DEVICE_IDS.length * 2);
  });

  it('a quoted id really is quoted (the fallback is exercised, not just equal by accident)', () => {
    const text = renderDeployment(placement('123', 'meter-everywhere')).bytes.toString();
    expect(text).toContain('deviceId: "123"');
    expect(batchRenderer()(placement('123', 'meter-everywhere')).bytes.toString()).toBe(text);
  });

  it('bundles: the synchronous tar equals tar-stream, including block boundaries and long names', async () => {
    const sizes = [0, 1, 511, 512, 513, 1024, 3000];
    for (const size of sizes) {
      for (const name of ['a', 'k'.repeat(95), 'l'.repeat(120)]) {
        const d = [{ deploymentId: name, digest: 'sha256:x' as const, bytes: Buffer.alloc(size, 0x61) }];
        const fast = await renderBundleFast(d as never);
        const slow = await renderBundle(d as never);
        expect(fast.digest, `${name.length}-char name, ${size} bytes`).toBe(slow.digest);
      }
    }
    // Names tar-stream would write with a pax header are left to it.
    expect(tarFiles([{ name: 'x'.repeat(101), bytes: Buffer.alloc(1) }])).toBeUndefined();
    expect(tarFiles([{ name: 'ü.yaml', bytes: Buffer.alloc(1) }])).toBeUndefined();
  });
});

describe('renderDevices on the store (PGlite)', () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-render-batch-'));
    store = await openStore({ kind: 'pglite', dataDir: join(dir, 'store') });
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores exactly what the per-device path renders: manifest, documents, bundle, digests', { timeout: 180_000 }, async () => {
    // More devices than one batch, so the statements are split and versions come from several allocations.
    const ids = [...DEVICE_IDS, ...Array.from({ length: RENDER_BATCH + 3 }, (_, i) => `fleet-${String(i).padStart(4, '0')}`)].sort();
    await addDevices(store, ids);
    const byDevice = new Map(ids.map((id, i) => [id, i % 7 === 6 ? [] : placementsFor(id, i)]));
    for (const bulk of [true, false]) {
      const source = mapSource(byDevice, bulk);
      const before = await stored.getManifests(store, ids);
      const manifests = await store.transaction((tx) => renderDevices(tx, source, ids));
      expect(manifests.map((m) => m.deviceId)).toEqual(ids);
      // The bulk source is read once per batch, the other once per device.
      expect(source.reads).toBe(bulk ? Math.ceil(ids.length / RENDER_BATCH) : ids.length);
      const after = await stored.getManifests(store, ids);
      const granted = await store.query<{ device_id: string; digest: string; deployment_id: string | null; bytes: Uint8Array }>(
        `SELECT dd.device_id, dd.digest, dd.deployment_id, d.bytes FROM device_documents dd JOIN desired_state_documents d ON d.digest = dd.digest WHERE dd.device_id = ANY($1::text[])`,
        [ids],
      );
      const docs = new Map(granted.map((r) => [`${r.device_id} ${r.digest}`, r]));
      for (const id of ids) {
        const m = after.get(id);
        expect(m!.manifestVersion).toBe((before.get(id)?.manifestVersion ?? 0) + 1);
        const ref = await referenceState(byDevice.get(id)!, m!.manifestVersion);
        expect(m!.digest, id).toBe(ref.manifest.digest);
        expect(m!.bytes.equals(ref.manifest.bytes)).toBe(true);
        for (const d of ref.deployments) {
          const doc = docs.get(`${id} ${d.digest}`);
          expect(doc?.deployment_id).toBe(d.deploymentId);
          expect(Buffer.from(doc!.bytes).equals(d.bytes)).toBe(true);
        }
        if (ref.bundle) expect(Buffer.from(docs.get(`${id} ${ref.bundle.digest}`)!.bytes).equals(ref.bundle.bytes)).toBe(true);
      }
    }
  });

  it("a device never reads another device's documents, even when rendered in the same batch", async () => {
    const ids = ['iso-a', 'iso-b'];
    await addDevices(store, ids);
    const byDevice = new Map(ids.map((id) => [id, [placement(id, 'meter-everywhere')]]));
    await store.transaction((tx) => renderDevices(tx, mapSource(byDevice, true), ids));
    const a = JSON.parse((await stored.getManifest(store, 'iso-a'))!.bytes.toString()) as { deployments: { digest: string }[] };
    expect(await stored.getDocument(store, 'iso-b', a.deployments[0]!.digest)).toBeUndefined();
    expect(await stored.getDocument(store, 'iso-a', a.deployments[0]!.digest)).toBeDefined();
  });

  it('versions: strictly increasing per device, nothing allocated by a rolled-back batch, none reused after a restart', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `v-${i}`);
    await addDevices(store, ids);
    const source = mapSource(new Map(ids.map((id) => [id, [placement(id, 'meter-everywhere')]])), true);
    const seen = new Map<string, number[]>();
    const record = (ms: stored.StoredManifest[]) => ms.forEach((m) => seen.set(m.deviceId, [...(seen.get(m.deviceId) ?? []), m.manifestVersion]));
    record(await store.transaction((tx) => renderDevices(tx, source, ids)));
    record(await store.transaction((tx) => renderDevices(tx, source, ids.slice(0, 20))));
    await expect(
      store.transaction(async (tx) => {
        await renderDevices(tx, source, ids);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await stored.getManifests(store, ids)).get('v-0')!.manifestVersion).toBe(2);
    await store.close();
    store = await openStore({ kind: 'pglite', dataDir: join(dir, 'store') });
    record(await store.transaction((tx) => renderDevices(tx, source, ids)));
    for (const id of ids) {
      const versions = seen.get(id)!;
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
    }
    expect(seen.get('v-0')).toEqual([1, 2, 3]);
    expect(seen.get('v-39')).toEqual([1, 2]);
  });
});
