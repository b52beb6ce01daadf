import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../../runtime/agent/enroll.js';
import { signingRootsDigest, type FleetSigningRoots } from '../../trust/signing/roots.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { call, startHarness, type Harness } from './harness.js';
import { Key } from '@tufjs/models';
import { newTufSigningKey } from '../../trust/tuf/keys.js';
import { newRoot } from '../../trust/tuf/root.js';
import { ONLINE_ROLES, vendorPolicyTarget, type OnlineRole } from '../../wire/tuf.js';
import { testTrustPolicy } from '../support/verified-catalog.js';

// Two control-plane replicas on one PostgreSQL server (started here): state lives in the store,
// so what one replica does the other enforces on the next request.
let pg: PostgresServer;
let one: Harness;
let two: Harness;
let work: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'berth-replicas-'));
  pg = await startPostgres();
  one = await startHarness({ storeUrl: pg.url, dataDir: join(work, 'one'), authorityRefreshMs: 100 });
  // Replicas share the issuing key (a mounted secret in production); certificates come from the store.
  cpSync(join(work, 'one', 'pki'), join(work, 'two', 'pki'), { recursive: true });
  two = await startHarness({ storeUrl: pg.url, dataDir: join(work, 'two'), authorityRefreshMs: 100 });
});
afterAll(async () => {
  await one?.stop();
  await two?.stop();
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('control plane on PostgreSQL with two replicas', () => {
  it('onboards on one, revokes on the other, and both refuse the device', async () => {
    expect(one.cp.deps.store.kind).toBe('postgres');
    expect(two.ca).toEqual(one.ca);
    const token = await one.enrollmentToken({ deviceId: 'shared-1' });
    const id = await enroll({ url: one.cp.url, ca: one.ca, dir: join(work, 'dev'), credential: { kind: 'token', token } });
    // Both replicas have the device's authentication cached before the revocation.
    for (const h of [one, two]) expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: id.keyPem, cert: id.certificatePem })).status).toBe(200);
    // The token is spent on every replica.
    await expect(enroll({ url: two.cp.url, ca: two.ca, dir: join(work, 'dev2'), credential: { kind: 'token', token } })).rejects.toMatchObject({
      code: 'onboarding.token_used',
    });
    expect((await two.admin('POST', '/api/v1/admin/device-revocations', { deviceId: 'shared-1' })).status).toBe(200);
    for (const h of [one, two]) {
      const answer = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: id.keyPem, cert: id.certificatePem });
      expect(answer.body).toMatchObject({ status: 403, code: 'device.revoked' });
    }
  });

  it('a CA rotation on one replica reaches the other through the store', async () => {
    const before = two.cp.deps.authority.bundleSequence;
    const rotated = await one.admin('POST', '/api/v1/admin/ca/rotations', { newRoot: true });
    expect(rotated.status, JSON.stringify({ body: rotated.body, errors: one.logs.filter((l) => (l.level as number) >= 50) })).toBe(201);
    // Replica two shares the key directory here (a shared secret mount in production).
    const { cpSync } = await import('node:fs');
    cpSync(join(work, 'one', 'pki'), join(work, 'two', 'pki'), { recursive: true });
    const deadline = Date.now() + 10_000;
    while (two.cp.deps.authority.bundleSequence === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(two.cp.deps.authority.bundleSequence).toBe(rotated.body.sequence);
    const bundle = await call(`${two.cp.url}/api/v1/trust-bundle`, { ca: one.ca });
    expect(bundle.body.spiffe_sequence).toBe(rotated.body.sequence);
    expect(bundle.body.keys).toHaveLength(2);
    // A device onboarded on replica one under the new chain is accepted by replica two.
    const token = await one.enrollmentToken({ deviceId: 'after-rotation' });
    const id = await enroll({ url: one.cp.url, ca: one.ca, dir: join(work, 'dev3'), credential: { kind: 'token', token } });
    expect((await call(`${two.cp.url}/api/v1/identity`, { ca: two.ca, key: id.keyPem, cert: id.certificatePem })).status).toBe(200);
  });

  it('a fleet signing rotation on one replica reaches the other through the shared key directory', async () => {
    const rootsOf = async (h: Harness) => (await call(`${h.cp.url}/api/v1/signing/roots`, { ca: h.ca })).body as FleetSigningRoots;
    const before = await rootsOf(two);
    const rotated = await one.admin('POST', '/api/v1/admin/signing/rotations', { signingCa: true, timestampAuthority: true });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(201);
    expect(signingRootsDigest(await rootsOf(one))).toBe(rotated.body.signingRootsDigest);
    // Replica two shares the signing directory (a shared secret mount in production).
    cpSync(join(work, 'one', 'pki', 'signing'), join(work, 'two', 'pki', 'signing'), { recursive: true });
    const deadline = Date.now() + 10_000;
    let seen = await rootsOf(two);
    while (signingRootsDigest(seen) !== rotated.body.signingRootsDigest && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await rootsOf(two);
    }
    expect(signingRootsDigest(seen)).toBe(rotated.body.signingRootsDigest);
    // The overlap: the old CA and TSA stay served after the new ones, so what they signed still verifies.
    expect(seen.signingCas).toHaveLength(before.signingCas.length + 1);
    expect(seen.signingCas.slice(1)).toEqual(before.signingCas);
    expect(seen.timestampAuthorities.slice(1)).toEqual(before.timestampAuthorities);
  });

  it('one TUF repository for both: root published on one, metadata kept current by both under one lock, served alike', async () => {
    const set = (await one.admin('POST', '/api/v1/admin/tuf/online-keys', {})).body;
    // The online keys travel with the rest of pki/ (a shared secret mount in production).
    cpSync(join(work, 'one', 'pki'), join(work, 'two', 'pki'), { recursive: true });
    const rootKeys = [newTufSigningKey(), newTufSigningKey()];
    const online = Object.fromEntries(ONLINE_ROLES.map((r) => [r, Key.fromJSON(set.keys[r].keyid, set.keys[r].key)])) as Record<OnlineRole, Key>;
    const root = newRoot({ version: 1, expires: new Date(Date.now() + 86_400_000), rootKeys: rootKeys.map((k) => k.key), threshold: 2, online });
    for (const k of rootKeys) root.sign(k.sign);
    expect((await two.admin('PUT', '/api/v1/admin/tuf/root', root.toJSON())).status).toBe(200);
    // Both replicas re-sign every 100 ms here: a new trust document is signed once, by whichever gets the lock.
    expect((await one.admin('POST', '/api/v1/catalog/vendors', { name: 'tuf-replicas', trustPolicy: testTrustPolicy('tuf-replicas') })).status).toBe(201);
    const deadline = Date.now() + 10_000;
    let targets: string[] = [];
    while (!targets.includes(vendorPolicyTarget('tuf-replicas')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      targets = (await two.admin('GET', '/api/v1/admin/tuf')).body.targetPaths;
    }
    expect(targets).toContain(vendorPolicyTarget('tuf-replicas'));
    const timestamps = await Promise.all([one, two].map(async (h) => (await h.admin('GET', '/api/v1/tuf/metadata/timestamp.json')).body));
    expect(timestamps[0]).toEqual(timestamps[1]);
    const versions = await one.cp.deps.store.query<{ role: string; n: number; distinct: number }>(
      'SELECT role, count(*)::int AS n, count(DISTINCT version)::int AS distinct FROM tuf_metadata GROUP BY role',
    );
    for (const v of versions) expect(v.n, v.role).toBe(v.distinct);
    for (const h of [one, two]) expect(h.logs.filter((l) => l.msg === 'could not keep the TUF metadata current')).toEqual([]);
  });
});
