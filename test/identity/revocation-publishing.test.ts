import 'reflect-metadata';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BerthError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { revoke, type LifecycleDeps } from '../../orchestrator/devices/lifecycle.js';
import { FleetAuthority } from '../../orchestrator/pki/fleet-authority.js';
import { issueAndRecord } from '../../orchestrator/pki/issuance.js';
import { readRevocationList } from '../../orchestrator/revocations/list-store.js';
import { reissueRevocationList } from '../../orchestrator/revocations/publish.js';
import { startRevocationUpkeep, type RevocationUpkeep } from '../../orchestrator/revocations/upkeep.js';
import * as devices from '../../orchestrator/store/devices.js';
import { migrations } from '../../orchestrator/store/migrations.js';
import { openStore, type Store, type StoreLocation } from '../../orchestrator/store/store.js';
import { createCsr } from '../../runtime/agent/enroll.js';
import { verifyCsr } from '../../trust/csr.js';
import { RevocationListHolder } from '../../trust/revocation/holder.js';
import { RevocationList } from '../../trust/revocation/list.js';
import { issueWorkloadToken, type DeviceSigner } from '../../trust/workload/token.js';
import { verifyWorkloadToken } from '../../trust/workload/verify.js';
import { fingerprintOf, generateP256, parseCertificates } from '../../trust/x509.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

// The control plane's side: the list is re-issued inside the revocation's transaction and kept
// current between revocations, on PGlite and on a real PostgreSQL (where two replicas share it).
const TD = 'fleet.test';
const DAY = 86_400_000;
const request = { vendor: 'acme', app: 'sensor', instance: 'i-1', audience: 'historian' };

let pg: PostgresServer;
let work: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'berth-revocations-'));
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Replica {
  store: Store;
  deps: LifecycleDeps;
}

const backends: [string, () => StoreLocation, boolean][] = [
  ['PGlite', () => ({ kind: 'pglite', dataDir: join(work, 'pglite') }), false],
  ['PostgreSQL', () => ({ kind: 'postgres', url: pg.url }), true],
];

describe.each(backends)('the published revocation list on %s', (_name, location, separateReplica) => {
  let one: Replica;
  let two: Replica;
  let upkeep: RevocationUpkeep;
  const keyDir = () => join(work, `pki-${_name}`);

  async function replica(store?: Store): Promise<Replica> {
    const s = store ?? (await openStore(location()));
    const authority = await FleetAuthority.open({ store: s, keyDir: keyDir(), trustDomain: TD, logger: silentLogger });
    return { store: s, deps: { store: s, authority, logger: silentLogger, certificateLifetimeMs: DAY, revocationListLifetimeMs: DAY } };
  }

  beforeAll(async () => {
    one = await replica();
    // On PostgreSQL a second store with its own connections, as a second control plane would have.
    two = separateReplica ? await replica() : await replica(one.store);
    upkeep = await startRevocationUpkeep({ store: one.store, authority: one.deps.authority, logger: silentLogger, lifetimeMs: DAY, checkMs: DAY });
  });
  afterAll(async () => {
    await upkeep?.stop();
    if (two?.store !== one?.store) await two?.store.close();
    await one?.store.close();
  });

  async function onboard(deviceId: string, r: Replica = one): Promise<DeviceSigner> {
    const keys = await generateP256();
    const csr = await verifyCsr(await createCsr(keys));
    const record = await r.store.transaction(async (tx) => {
      await devices.insertDevice(tx, { id: deviceId, status: 'active', labels: {}, method: 'test' });
      return issueAndRecord(tx, r.deps.authority, deviceId, csr, DAY);
    });
    const issuer = parseCertificates(r.deps.authority.chainFor(record.issuerFingerprint)[0]!)[0]!;
    return { trustDomain: TD, deviceId, privateKey: keys.privateKey, chain: [parseCertificates(record.certificatePem)[0]!, issuer] };
  }

  const roots = () => one.deps.authority.roots();
  const current = async (r: Replica = one) => RevocationList.load((await readRevocationList(r.store)).document!, { roots: roots() });
  const verify = async (signer: DeviceSigner, revocations?: RevocationList) =>
    verifyWorkloadToken(await issueWorkloadToken(signer, request), {
      roots: roots(),
      trustDomain: TD,
      audience: 'historian',
      ...(revocations ? { revocations } : {}),
    });
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (e: unknown) => (e instanceof BerthError ? e.code : String(e)),
    );

  it('is published at start, and a revocation re-issues it in the same transaction', async () => {
    const first = await readRevocationList(one.store);
    expect(first.number).toBeGreaterThanOrEqual(1);
    expect(first.etag).toMatch(/^"[0-9a-f]{32}"$/);
    const a = await onboard('plc-a');
    const b = await onboard('plc-b');
    expect((await verify(a, await current())).deviceId).toBe('plc-a');
    const holder = new RevocationListHolder({ roots: roots() });
    await holder.update(first.document!);

    await revoke(one.deps, 'plc-a', 'test', 'stolen');
    const second = await readRevocationList(one.store);
    expect(second.number).toBe(first.number + 1);
    expect(second.etag).not.toBe(first.etag);
    await holder.update(second.document!);
    expect(await refusal(verify(a, await current()))).toBe('token.revoked');
    expect((await verify(a)).deviceId).toBe('plc-a'); // without the list the token verifies
    expect((await verify(b, await current())).deviceId).toBe('plc-b');

    // A second revocation, on the other replica: the list is refreshed and holds both.
    await revoke(two.deps, 'plc-b', 'test', 'decommissioned');
    const third = await readRevocationList(one.store);
    expect(third.number).toBe(first.number + 2);
    await holder.update(third.document!);
    expect(await refusal(holder.update(second.document!))).toBe('revocations.rollback');
    for (const d of [a, b]) expect(await refusal(verify(d, await current(two)))).toBe('token.revoked');
  });

  it('leaves the list untouched when the revocation fails', async () => {
    const before = await readRevocationList(one.store);
    await expect(revoke(one.deps, 'no-such-device', 'test', 'x')).rejects.toMatchObject({ status: 404 });
    expect(await readRevocationList(one.store)).toEqual(before);
  });

  it('lists every one of concurrent revocations on two replicas, each with its own number', async () => {
    const before = await readRevocationList(one.store);
    const ids = ['race-1', 'race-2', 'race-3', 'race-4'];
    const signers = await Promise.all(ids.map((id) => onboard(id)));
    await Promise.all(ids.map((id, i) => revoke((i % 2 ? two : one).deps, id, 'test', 'race')));
    const after = await readRevocationList(two.store);
    expect(after.number).toBe(before.number + ids.length);
    const list = await current(two);
    for (const s of signers) expect(await refusal(verify(s, list))).toBe('token.revoked');
    // Re-issues racing each other directly (not behind a revocation's other locks): the list's row
    // lock makes every one take the next number.
    const forced = await Promise.all(
      [one, two, one, two].map((r) =>
        r.store.transaction((tx) => reissueRevocationList(tx, { authority: r.deps.authority, logger: silentLogger, lifetimeMs: DAY }, true)),
      ),
    );
    expect(new Set(forced.map((f) => f.list.number)).size).toBe(4);
    expect((await readRevocationList(one.store)).number).toBe(after.number + 4);
  });

  it('keeps a revoked certificate listed after its device row is gone', async () => {
    const gone = await onboard('gone-1');
    await revoke(one.deps, 'gone-1', 'test', 'stolen');
    await one.store.query('DELETE FROM devices WHERE id = $1', ['gone-1']);
    await one.store.transaction((tx) => reissueRevocationList(tx, { authority: one.deps.authority, logger: silentLogger, lifetimeMs: DAY }, true));
    expect(await refusal(verify(gone, await current()))).toBe('token.revoked');
  });

  it('lists devices revoked before the list existed once migration 8 has run', async () => {
    const early = await onboard('revoked-before-v6');
    // What a revocation did before migration 6: device and certificates marked, nothing listed.
    await one.store.transaction(async (tx) => {
      await devices.setDeviceStatus(tx, 'revoked-before-v6', 'revoked', 'old');
      await tx.query(`UPDATE device_certificates SET state = 'revoked' WHERE device_id = $1`, ['revoked-before-v6']);
    });
    expect(await refusal(verify(early, await current()))).toBe('accepted');
    await one.store.transaction(async (tx) => {
      for (const statement of migrations.find((m) => m.version === 8)!.statements) await tx.query(statement);
    });
    await upkeep.ensure();
    expect(await refusal(verify(early, await current()))).toBe('token.revoked');
  });

  it('is re-issued once half its lifetime is gone, and not before', async () => {
    const before = await readRevocationList(one.store);
    const at = (ms: number) =>
      one.store.transaction((tx) =>
        reissueRevocationList(tx, { authority: one.deps.authority, logger: silentLogger, lifetimeMs: DAY, now: new Date(Date.now() + ms) }, false),
      );
    expect((await at(DAY / 4)).reissued).toBe(false);
    const due = await at(DAY * 0.6);
    expect(due.reissued).toBe(true);
    expect(due.list.number).toBe(before.number + 1);
    expect(due.list.nextUpdate!.getTime()).toBeGreaterThan(before.nextUpdate!.getTime());
    // Two replicas checking at once: one re-issues, the other finds it fresh.
    const both = await Promise.all(
      [one, two].map((r) =>
        r.store.transaction((tx) =>
          reissueRevocationList(tx, { authority: r.deps.authority, logger: silentLogger, lifetimeMs: DAY, now: new Date(Date.now() + DAY * 0.6) }, false),
        ),
      ),
    );
    expect(both.filter((r) => r.reissued)).toHaveLength(0);
  });

  it('covers a new issuing CA after a rotation, and leaves out a CA whose key is missing (its tokens then refused)', async () => {
    const old = await onboard('before-rotation');
    await one.deps.authority.rotate();
    // The upkeep hears of the CA change by itself (FleetAuthority.onChange), no call needed.
    const rotated = await eventually(async () => {
      const l = await readRevocationList(one.store);
      return l.issuers.length === 2 ? l : undefined;
    });
    expect(rotated.issuers).toHaveLength(2);
    const renewed = await onboard('after-rotation');
    const list = await current();
    expect((await verify(renewed, list)).deviceId).toBe('after-rotation');
    expect((await verify(old, list)).deviceId).toBe('before-rotation');
    // A replica that has only the active CA's key does not drop the retiring CA's CRL on a check.
    const partialKeys = join(work, `pki-partial-${_name}`);
    mkdirSync(partialKeys);
    const active = one.deps.authority.issuer().certificate;
    copyFileSync(one.deps.authority.keyPath(fingerprintOf(active)), join(partialKeys, `${fingerprintOf(active)}.key`));
    const partial = await FleetAuthority.open({ store: one.store, keyDir: partialKeys, trustDomain: TD, logger: silentLogger });
    const check = await one.store.transaction((tx) => reissueRevocationList(tx, { authority: partial, logger: silentLogger, lifetimeMs: DAY }, false));
    expect(check).toMatchObject({ reissued: false, skipped: [fingerprintOf(old.chain[1]!)] });
    expect((await readRevocationList(one.store)).issuers).toHaveLength(2);
    // The retiring CA's key is gone from this replica: its CRL cannot be signed, so it is left out.
    rmSync(one.deps.authority.keyPath(fingerprintOf(old.chain[1]!)));
    const forced = await one.store.transaction((tx) =>
      reissueRevocationList(tx, { authority: one.deps.authority, logger: silentLogger, lifetimeMs: DAY }, true),
    );
    expect(forced.skipped).toHaveLength(1);
    expect(forced.list.issuers).toHaveLength(1);
    const without = await current();
    expect(await refusal(verify(old, without))).toBe('revocations.issuer_not_covered');
    expect((await verify(renewed, without)).deviceId).toBe('after-rotation');
  });

  it('is re-issued by the upkeep timer before it expires, with no revocation', async () => {
    // The last test left a CA without its key: that alone must not make every check re-issue.
    const idle = await one.store.transaction((tx) =>
      reissueRevocationList(tx, { authority: one.deps.authority, logger: silentLogger, lifetimeMs: DAY }, false),
    );
    expect(idle).toMatchObject({ reissued: false, skipped: [expect.any(String)] });
    // A list with a 2 s lifetime, then an upkeep checking every 100 ms: due after 1 s.
    await one.store.transaction((tx) => reissueRevocationList(tx, { authority: one.deps.authority, logger: silentLogger, lifetimeMs: 2_000 }, true));
    const before = await readRevocationList(one.store);
    const brief = await startRevocationUpkeep({ store: one.store, authority: one.deps.authority, logger: silentLogger, lifetimeMs: 2_000, checkMs: 100 });
    try {
      const renewed = await eventually(async () => {
        const l = await readRevocationList(one.store);
        return l.number >= before.number + 2 ? l : undefined;
      });
      expect(renewed.nextUpdate!.getTime() - renewed.thisUpdate!.getTime()).toBe(2_000);
    } finally {
      await brief.stop();
    }
  });
});

/** Polls `probe` until it returns something, for at most 15 s. */
async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out waiting for the revocation list to change');
    await new Promise((r) => setTimeout(r, 50));
  }
}
