import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Digest, type Digest } from '../../common/digest.js';
import { createLogger, silentLogger } from '../../common/logger.js';
import { AdoptedStateStore } from '../../runtime/agent/adopted-state.js';
import { startAgent, type RunningAgent } from '../../runtime/agent/agent.js';
import { ArtifactStore, type ArtifactRecord } from '../../runtime/agent/artifact-store.js';
import { TranspileCache } from '../../runtime/engine/jco/transpile-cache.js';
import { fixture, startInProcessAgent, startWorld, variant, waitFor, type LogLine, type World } from './support.js';

// A device updating its apps for years keeps only what it runs (and a few recent versions).
const dir = mkdtempSync(join(tmpdir(), 'berth-gc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (name: string, component: Buffer, verifiedAt: string): ArtifactRecord => ({
  manifestDigest: sha256Digest(`manifest ${name}`),
  componentDigest: sha256Digest(component),
  vendor: 'acme',
  signer: 'key k',
  policyFingerprint: 'p',
  verifiedAt,
});

describe('local stores give back their disk', () => {
  it('artifact store: keeps what is planned and the most recent others, and every blob a kept record names', async () => {
    const store = new ArtifactStore(join(dir, 'art'), silentLogger);
    const shared = Buffer.from('one component under two manifests');
    const records = {
      current: record('current', Buffer.from('current'), '2026-11-20T00:00:00Z'),
      recent: record('recent', shared, '2026-11-19T00:00:00Z'),
      older: record('older', shared, '2026-11-18T00:00:00Z'),
      oldest: record('oldest', Buffer.from('oldest'), '2026-11-01T00:00:00Z'),
    };
    await store.put(records.current, Buffer.from('current'));
    await store.put(records.recent, shared);
    await store.put(records.older, shared);
    await store.put(records.oldest, Buffer.from('oldest'));
    writeFileSync(join(dir, 'art', 'artifacts', 'verified', 'garbage.json'), '{not json');
    writeFileSync(join(dir, 'art', 'artifacts', 'blobs', 'left-by-a-crash.123.tmp'), 'x');
    const pruned = await store.prune(new Set([records.current.manifestDigest]), 1);
    // `recent` is retained; `older` and `oldest` and the unreadable record go.
    expect(pruned.removed).toBe(3);
    expect([...pruned.components].sort()).toEqual([records.current.componentDigest, records.recent.componentDigest].sort());
    expect(await store.get(records.recent.manifestDigest, 'p')).toBeDefined();
    expect(await store.get(records.older.manifestDigest, 'p')).toBeUndefined();
    // The shared blob stays (a kept record names it); the oldest's blob and the stray file go.
    expect(readdirSync(join(dir, 'art', 'artifacts', 'blobs')).sort()).toEqual(
      [records.current.componentDigest.slice(7), records.recent.componentDigest.slice(7)].sort(),
    );
    expect(pruned.bytesFreed).toBe(Buffer.byteLength('oldest') + 1);
    expect((await store.prune(new Set(), 0)).removed).toBe(2);
    expect(readdirSync(join(dir, 'art', 'artifacts', 'blobs'))).toEqual([]);
  });

  it("adopted state: only the adopted state's documents stay", async () => {
    const store = new AdoptedStateStore(join(dir, 'adopted'), silentLogger);
    const doc = (text: string) => ({ deploymentId: 'd', digest: sha256Digest(text), bytes: Buffer.from(text) });
    const [a, b] = [doc('first: 1\n'), doc('second: 2\n')];
    await store.putDocument(a);
    await store.save({
      deviceId: 'line-1',
      manifestVersion: 2,
      etag: '"a"',
      manifestDigest: 'm',
      deployments: [{ deploymentId: 'd', digest: a.digest }],
      adoptedAt: '',
    });
    await store.putDocument(b);
    expect(readdirSync(join(dir, 'adopted', 'desired', 'documents'))).toHaveLength(2);
    await store.save({
      deviceId: 'line-1',
      manifestVersion: 3,
      etag: '"b"',
      manifestDigest: 'm',
      deployments: [{ deploymentId: 'd', digest: b.digest }],
      adoptedAt: '',
    });
    expect(await store.document('d', b.digest)).toBeDefined();
    expect(readdirSync(join(dir, 'adopted', 'desired', 'documents'))).toEqual([`${b.digest.slice(7)}.yaml`]);
  });

  it('compile cache: removes every component folder but those kept, and writes that died an hour ago', () => {
    const cache = new TranspileCache(join(dir, 'cache'), 'test-toolchain');
    const digests = ['a', 'b', 'c'].map((x) => sha256Digest(x)) as Digest[];
    for (const d of digests) cache.write(d, Buffer.from('export function instantiate() {}'), { 'm.wasm': new Uint8Array(8) });
    const stale = join(dir, 'cache', `${digests[0]!.slice(7)}.dead.tmp`);
    const fresh = join(dir, 'cache', `${digests[1]!.slice(7)}.live.tmp`);
    for (const p of [stale, fresh]) mkdirSync(p);
    const twoHoursAgo = (Date.now() - 7_200_000) / 1000;
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    expect(cache.prune(new Set([digests[2]!]))).toBe(3);
    expect(cache.read(digests[2]!)).toBeDefined();
    expect(cache.read(digests[0]!)).toBeUndefined();
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(stale)).toBe(false);
  });
});

/** The digests (hex) whose compiled code is on disk, in either engine's layout (docs/engine.md). */
function compiledOnDisk(cacheDir: string): string[] {
  const names = readdirSync(cacheDir).filter((n) => !n.endsWith('.tmp'));
  const wasmtime = names.filter((n) => n.startsWith('wasmtime-'));
  if (wasmtime.length === 0) return names; // jco: a folder per digest
  return wasmtime.flatMap((d) =>
    readdirSync(join(cacheDir, d))
      .filter((n) => n.endsWith('.cwasm'))
      .map((n) => n.split('-')[0]!),
  );
}

describe('an agent updating an app', () => {
  let world: World;
  let agent: RunningAgent | undefined;
  beforeAll(async () => {
    world = await startWorld();
    await world.publish('sensor', '1.0.0', variant(fixture('hello'), 'gc-1'));
    await world.publish('sensor', '1.1.0', variant(fixture('hello'), 'gc-2'));
    await world.publish('vault', '1.0.0', variant(fixture('hello'), 'gc-vault'));
    await world.publish('keeper', '1.0.0', variant(fixture('hello'), 'gc-keeper'));
  });
  afterAll(async () => {
    await agent?.stop();
    await world?.stop();
  });

  it('keeps on disk only the version it runs (retainUnused 0): artifact, compiled code, document', async () => {
    // Without probation: a version on probation keeps the one it replaced (test/agent/last-known-good.test.ts).
    const started = await startInProcessAgent(world, 'gc-1', {
      artifacts: { source: 'mirror', retainUnused: 0 },
      lastKnownGood: { windowSeconds: 0, maxRestarts: 3 },
    });
    agent = started.agent;
    const { lines, changes } = started;
    const dataDir = started.config.dataDir;
    const installed = (version: string) =>
      waitFor(() => changes.some((c) => c.deploymentId === 'sensor-gc' && c.state === 'installed' && c.version === version), 30_000, `${version} installed`);
    await world.deploy({ id: 'sensor-gc', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['gc-1'] });
    await installed('1.0.0');
    const listing = () => ({
      verified: readdirSync(join(dataDir, 'artifacts', 'verified')),
      blobs: readdirSync(join(dataDir, 'artifacts', 'blobs')),
      compiled: compiledOnDisk(join(dataDir, 'runtime', 'cache')),
    });
    expect(listing().blobs).toHaveLength(1);
    const answer = await world.h.admin('POST', '/api/v1/admin/deployments/sensor-gc/rollouts', { version: '1.1.0' });
    expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
    await installed('1.1.0');
    await waitFor(() => lines.some((l) => l.msg === 'removed components no deployment uses'), 10_000, 'garbage collected');
    const after = listing();
    expect(after.verified).toHaveLength(1);
    expect(after.blobs).toHaveLength(1);
    expect(after.compiled).toEqual([agent.reconciler.apps()[0]!.supervisor.spec.digest.slice(7)]);
    expect(after.blobs).toEqual(after.compiled);
    expect(readdirSync(join(dataDir, 'desired', 'documents'))).toHaveLength(1);
  });

  it("deletes a removed app's data folder (removedAppDataDays 0) at the next adopted state and at a restart, and keeps a deployed app's", async () => {
    await agent?.stop();
    const started = await startInProcessAgent(world, 'gc-data', { runtime: { removedAppDataDays: 0 } });
    agent = started.agent;
    const { lines, changes, config } = started;
    const appsDir = join(config.dataDir, 'runtime', 'apps', 'acme');
    const grants = { log: {}, keyvalue: { quotaBytes: 4096 } };
    await world.deploy({ id: 'vault-gc', app: 'vault', version: '1.0.0', grants, deviceIds: ['gc-data'] });
    await world.deploy({ id: 'keeper-gc', app: 'keeper', version: '1.0.0', grants, deviceIds: ['gc-data'] });
    for (const id of ['vault-gc', 'keeper-gc'])
      await waitFor(() => changes.some((c) => c.deploymentId === id && c.state === 'installed'), 30_000, `${id} installed`);
    // What the apps kept: the runtime made their folders for the keyvalue grant; the store makes
    // keyvalue/ at its first write.
    for (const app of ['vault', 'keeper']) {
      expect(existsSync(join(appsDir, app))).toBe(true);
      mkdirSync(join(appsDir, app, 'keyvalue'), { recursive: true });
      writeFileSync(join(appsDir, app, 'keyvalue', 'entry'), 'state');
    }
    expect((await world.h.admin('DELETE', '/api/v1/admin/deployments/vault-gc')).status).toBeLessThan(300);
    await waitFor(() => changes.some((c) => c.deploymentId === 'vault-gc' && c.state === 'removed'), 30_000, 'vault removed');
    const removal = await waitFor(
      () => lines.find((l) => l.msg === 'removed the data of an app no deployment names' && l.app === 'vault'),
      10_000,
      "vault's data removed",
    );
    expect(removal).toMatchObject({ vendor: 'acme', app: 'vault', bytesFreed: 5 });
    expect(existsSync(join(appsDir, 'vault'))).toBe(false);
    expect(readdirSync(join(appsDir, 'keeper', 'keyvalue'))).toEqual(['entry']);
    expect(agent.reconciler.appDataRemoved()).toBe(1);

    // A restart cleans up too, before any new state is adopted: a folder no adopted plan names
    // (say, from an older agent) is gone once the agent is up; the deployed app's stays.
    await agent.stop();
    agent = undefined;
    mkdirSync(join(appsDir, 'orphan', 'files'), { recursive: true });
    writeFileSync(join(appsDir, 'orphan', 'files', 'old'), 'x');
    const restartLines: LogLine[] = [];
    agent = await startAgent(config, {
      logger: createLogger({ name: 'gc-data', level: 'debug' }, { write: (l: string) => void restartLines.push(JSON.parse(l)) }),
    });
    expect(restartLines.find((l) => l.msg === 'removed the data of an app no deployment names')).toMatchObject({ app: 'orphan', bytesFreed: 1 });
    expect(existsSync(join(appsDir, 'orphan'))).toBe(false);
    expect(readdirSync(join(appsDir, 'keeper', 'keyvalue'))).toEqual(['entry']);
  });
});
