import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../orchestrator/store/store.js';
import { migrate } from '../../orchestrator/store/migrate.js';
import { migrations } from '../../orchestrator/store/migrations.js';
import * as devices from '../../orchestrator/store/devices.js';
import * as tokens from '../../orchestrator/store/tokens.js';
import * as certs from '../../orchestrator/store/certificates.js';
import * as authorities from '../../orchestrator/store/authorities.js';
import { storeBackends } from '../support/postgres.js';
import { DEVICE_AUTH_CHANNEL } from '../../orchestrator/http/device-auth-cache.js';

// The same cases against both back ends: PGlite in a temp dir, and a PostgreSQL server started here.
const stores = storeBackends('store');

describe.each(stores.each)('store on %s', (_name, location) => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(location());
  });
  afterAll(async () => {
    await store?.close();
  });

  it('applies every migration once and records it', async () => {
    const rows = await store.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    expect(await migrate(store)).toEqual([]);
  });

  it('rolls a failed transaction back whole', async () => {
    await expect(
      store.transaction(async (tx) => {
        await devices.insertDevice(tx, { id: 'rollback-1', status: 'active', labels: {}, method: 'token' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await devices.getDevice(store, 'rollback-1')).toBeUndefined();
  });

  it('keeps device ids unique and resolves identifiers to one device', async () => {
    expect(await devices.insertDevice(store, { id: 'dev-a', status: 'active', labels: { line: '3' }, method: 'token' })).toBe(true);
    expect(await devices.insertDevice(store, { id: 'dev-a', status: 'active', labels: {}, method: 'token' })).toBe(false);
    expect((await devices.getDevice(store, 'dev-a'))?.labels).toEqual({ line: '3' });
    await devices.insertDevice(store, { id: 'dev-b', status: 'active', labels: {}, method: 'token' });
    expect(
      await devices.addIdentifiers(store, 'dev-a', [
        { kind: 'serial', value: 'S1' },
        { kind: 'mac', value: 'aa' },
      ]),
    ).toEqual([]);
    expect(await devices.addIdentifiers(store, 'dev-b', [{ kind: 'serial', value: 'S1' }])).toEqual([{ kind: 'serial', value: 'S1' }]);
    expect(
      await devices.resolveIdentifiers(store, [
        { kind: 'mac', value: 'aa' },
        { kind: 'serial', value: 'S1' },
      ]),
    ).toEqual(['dev-a']);
    expect(await devices.resolveIdentifiers(store, [{ kind: 'mac', value: 'zz' }])).toEqual([]);
  });

  it('lets an enrollment token be claimed once and not after expiry', async () => {
    const future = new Date(Date.now() + 60_000);
    await tokens.insertEnrollmentToken(store, { id: 't1', secretSha256: 'h1', deviceId: 'x', labels: { a: 'b' }, expiresAt: future, createdBy: 'test' });
    await tokens.insertEnrollmentToken(store, {
      id: 't2',
      secretSha256: 'h2',
      deviceId: null,
      labels: {},
      expiresAt: new Date(Date.now() - 1000),
      createdBy: 'test',
    });
    const first = await tokens.claimEnrollmentToken(store, 'h1', 'r1');
    expect(first.ok && first.token.labels).toEqual({ a: 'b' });
    expect(await tokens.claimEnrollmentToken(store, 'h1', 'r2')).toMatchObject({ ok: false, reason: 'used' });
    expect(await tokens.claimEnrollmentToken(store, 'h2', 'r3')).toMatchObject({ ok: false, reason: 'expired' });
    expect(await tokens.claimEnrollmentToken(store, 'nope', 'r4')).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('tracks certificates: newest active supersedes the rest, revocation reaches all', async () => {
    // Every change to what a certificate may do is announced at commit, to every listener.
    const announced: string[] = [];
    const stop = await store.listen(DEVICE_AUTH_CHANNEL, (deviceId) => announced.push(deviceId));
    await authorities.insertAuthority(store, {
      fingerprint: 'ca1',
      kind: 'root',
      certificatePem: 'x',
      issuerFingerprint: null,
      state: 'active',
      notAfter: new Date(Date.now() + 1e9),
    });
    const base = { deviceId: 'dev-a', issuerFingerprint: 'ca1', certificatePem: 'pem', notBefore: new Date(), notAfter: new Date(Date.now() + 1e6) };
    await store.transaction((tx) => certs.insertCertificate(tx, { ...base, fingerprint: 'c1', serial: '01', publicKeySha256: 'k1' }));
    await store.transaction((tx) => certs.insertCertificate(tx, { ...base, fingerprint: 'c2', serial: '02', publicKeySha256: 'k2' }));
    expect((await certs.findPresented(store, 'c1'))?.newerActive).toBe(1);
    expect((await certs.currentCertificate(store, 'dev-a'))?.fingerprint).toBe('c2');
    expect(await certs.supersedeOthers(store, 'dev-a', 'c2')).toBe(1);
    expect((await certs.findPresented(store, 'c1'))?.certificate.state).toBe('superseded');
    await devices.setDeviceStatus(store, 'dev-a', 'revoked', 'stolen');
    expect(await certs.revokeDeviceCertificates(store, 'dev-a')).toBe(2);
    const presented = await certs.findPresented(store, 'c2');
    expect(presented).toMatchObject({ deviceStatus: 'revoked', certificate: { state: 'revoked' } });
    expect((await devices.getDevice(store, 'dev-a'))?.revokedReason).toBe('stolen');
    // No change, no announcement; then a marker on another device (delivered in commit order).
    await devices.setDeviceStatus(store, 'dev-a', 'revoked', 'again');
    await devices.insertDevice(store, { id: 'dev-marker', status: 'active', labels: {}, method: 'token' });
    await devices.setDeviceStatus(store, 'dev-marker', 'denied');
    const deadline = Date.now() + 5000;
    while (!announced.includes('dev-marker') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await stop();
    // Superseded, device revoked, certificates revoked (one per transaction: PostgreSQL folds repeats).
    expect(announced).toEqual(['dev-a', 'dev-a', 'dev-a', 'dev-marker']);
  });

  it('raises the bundle sequence monotonically inside transactions', async () => {
    const a = await store.transaction((tx) => authorities.bumpBundleSequence(tx));
    const b = await store.transaction((tx) => authorities.bumpBundleSequence(tx));
    expect(b).toBe(a + 1);
    await authorities.putSetting(store, 'trust_domain', 'example.org');
    expect(await authorities.getSetting(store, 'trust_domain')).toBe('example.org');
  });

  it('keeps what it committed across close and reopen', async () => {
    await store.close();
    store = await openStore(location());
    expect((await devices.getDevice(store, 'dev-b'))?.status).toBe('active');
    expect(await authorities.getSetting(store, 'trust_domain')).toBe('example.org');
  });
});

describe('store on postgres: notifications', () => {
  it('reopens a lost LISTEN connection and says so, since what was notified meanwhile is gone', async () => {
    const store = await openStore({ kind: 'postgres', url: stores.postgres().url });
    try {
      const heard: string[] = [];
      let reconnects = 0;
      const stop = await store.listen(
        'berth_test_reconnect',
        (p) => heard.push(p),
        () => reconnects++,
      );
      const killed = await store.query<{ pid: number }>(
        `SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity WHERE query = 'LISTEN berth_test_reconnect'`,
      );
      expect(killed).toHaveLength(1);
      const deadline = Date.now() + 10_000;
      while (reconnects === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(reconnects).toBe(1);
      await store.query(`SELECT pg_notify('berth_test_reconnect', 'after')`);
      while (!heard.includes('after') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual(['after']);
      await stop();
    } finally {
      await store.close();
    }
  });
});
