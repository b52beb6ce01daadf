import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, MetadataKind, Timestamp } from '@tufjs/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tufSigningKeyFromPem } from '../../trust/tuf/keys.js';
import { tufTime } from '../../trust/tuf/root.js';
import { FLEET_TARGETS, vendorPolicyTarget } from '../../wire/tuf.js';
import { berth } from '../support/berth-in-process.js';
import { testTrustPolicy } from '../support/verified-catalog.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { MaliciousRepository } from './malicious-repository.js';
import { tufClient, verifiedText } from './support.js';

/**
 * The fleet's TUF repository end to end (docs/tuf.md): `berth tuf init` makes offline root keys
 * and publishes root 1 against a real control plane, tuf-js (the client devices will run) reads
 * the trust documents through it, and `berth tuf rotate-online-keys` replaces the online keys:
 * the client follows, and metadata signed with a replaced (stolen) key is refused.
 */
describe('the TUF repository the control plane serves', () => {
  let h: Harness;
  let target: string[];
  let offline: string;
  beforeAll(async () => {
    h = await startHarness({ authorityRefreshMs: 0 });
    const caFile = join(h.dir, 'ca.pem');
    writeFileSync(caFile, h.ca.join('\n'));
    target = ['--url', h.cp.url, '--token', h.adminToken, '--ca', caFile];
    offline = join(h.dir, 'offline-root-keys');
  });
  afterAll(async () => h?.stop());

  it('has no root until the operator makes one, and says how', async () => {
    expect((await h.admin('GET', '/api/v1/tuf/metadata/1.root.json')).body.code).toBe('tuf.not_found');
    const status = await berth('tuf', 'status', ...target);
    expect(status.out).toContain('no TUF root yet: berth tuf init');
  });

  it('berth tuf init: root keys offline, root 1 published, the trust documents served as verified targets', async () => {
    const init = await berth('tuf', 'init', '--keys', '3', '--threshold', '2', '--out', offline, ...target);
    expect(init.code, init.err).toBe(0);
    expect(init.out).toMatch(/root version 1 published \(2 of 3 keys\)/);
    expect(readdirSync(offline).sort()).toEqual(['1.root.json', 'root-key-1.pem', 'root-key-2.pem', 'root-key-3.pem']);
    // The control plane holds online keys only: none of the root keys is in its key folder.
    const rootIds = (JSON.parse((await berth('tuf', 'status', ...target, '-o', 'json')).out) as { root: { keyids: string[] } }).root.keyids;
    expect(readdirSync(join(h.dir, 'pki', 'tuf')).filter((f) => rootIds.some((id) => f.startsWith(id)))).toEqual([]);

    const { client } = await tufClient(h, join(offline, '1.root.json'));
    expect(JSON.parse(await verifiedText(client, FLEET_TARGETS.signingRoots))).toEqual((await h.admin('GET', '/api/v1/signing/roots')).body);
    expect(JSON.parse(await verifiedText(client, FLEET_TARGETS.trustBundle))).toEqual((await h.admin('GET', '/api/v1/trust-bundle')).body);
    expect(JSON.parse(await verifiedText(client, FLEET_TARGETS.desiredStateKeys)).keys).toHaveLength(1);
  });

  it('signs again only what changed: a new vendor policy is a new targets version; an unchanged fleet signs nothing', async () => {
    const before = await h.cp.deps.tuf!.status();
    expect(await h.cp.deps.tuf!.keepCurrent()).toEqual([]);
    expect((await h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: testTrustPolicy('acme') })).status).toBe(201);
    expect(await h.cp.deps.tuf!.keepCurrent()).toEqual(['targets', 'snapshot', 'timestamp']);
    const after = await h.cp.deps.tuf!.status();
    expect(after.targets!.version).toBe(before.targets!.version + 1);
    expect(after.targetPaths).toContain(vendorPolicyTarget('acme'));
    // Half a day on, the one-day timestamp is half spent: it alone is signed anew.
    expect(await h.cp.deps.tuf!.keepCurrent(new Date(Date.now() + 13 * 3_600_000))).toEqual(['timestamp']);
  });

  it('berth tuf rotate-online-keys: root 2 names new online keys, the client follows, and metadata signed with a replaced key is refused', async () => {
    const tufDir = join(h.dir, 'pki', 'tuf');
    const oldTimestampKeyId = rootOf(readFileSync(join(offline, '1.root.json'), 'utf8')).roles.timestamp.keyids[0];
    const stolen = tufSigningKeyFromPem(readFileSync(join(tufDir, `${oldTimestampKeyId}.pem`), 'utf8'), 'stolen key');

    const { client, dir } = await tufClient(h, join(offline, '1.root.json'));
    await client.update([]);
    const rotated = await berth('tuf', 'rotate-online-keys', '--root-keys', offline, ...target);
    expect(rotated.code, rotated.err).toBe(0);
    expect(rotated.out).toContain('root version 2 published');
    const root2 = rootOf(readFileSync(join(offline, '2.root.json'), 'utf8'));
    expect(root2.roles.timestamp.keyids[0]).not.toBe(oldTimestampKeyId);
    // The replaced online keys are gone from the control plane's key folder.
    expect(existsSync(join(tufDir, `${oldTimestampKeyId}.pem`))).toBe(false);

    await client.update([]);
    expect(JSON.parse(readFileSync(join(dir, 'root.json'), 'utf8')).signed.version).toBe(2);
    expect(JSON.parse(await verifiedText(client, FLEET_TARGETS.signingRoots))).toEqual((await h.admin('GET', '/api/v1/signing/roots')).body);

    // The thief signs a newer timestamp with the stolen key and serves it to a client that knows root 2.
    const served = JSON.parse(readFileSync(join(dir, 'timestamp.json'), 'utf8'));
    const forged = new Metadata(
      new Timestamp({
        version: served.signed.version + 5,
        specVersion: served.signed.spec_version,
        expires: tufTime(new Date(Date.now() + 86_400_000)),
        snapshotMeta: Metadata.fromJSON(MetadataKind.Timestamp, served).signed.snapshotMeta,
      }),
    );
    forged.sign(stolen.sign);
    const thief = new MaliciousRepository({ ca: h.ca }).forge('/timestamp.json', JSON.stringify(forged.toJSON()));
    const victim = await tufClient(h, join(offline, '2.root.json'), thief);
    await expect(victim.client.update([])).rejects.toThrow('timestamp was signed by 0/1 keys');
    expect(thief.asked.some((url) => url.endsWith('/timestamp.json'))).toBe(true);
  });

  it('berth tuf rotate-root-keys: new holders take over with root 3; the old keys alone can no longer sign a root', async () => {
    const successors = join(h.dir, 'new-root-keys');
    const rotated = await berth('tuf', 'rotate-root-keys', '--root-keys', offline, '--keys', '2', '--threshold', '2', '--out', successors, ...target);
    expect(rotated.code, rotated.err).toBe(0);
    expect(rotated.out).toContain('root version 3 published, naming 2 of 2 new root keys');
    const status = JSON.parse((await berth('tuf', 'status', ...target, '-o', 'json')).out);
    expect(status.root).toMatchObject({ version: 3, threshold: 2 });
    // A client that trusted root 1 walks 2 and 3 and still reads the documents.
    const { client } = await tufClient(h, join(offline, '1.root.json'));
    expect(JSON.parse(await verifiedText(client, FLEET_TARGETS.signingRoots))).toEqual((await h.admin('GET', '/api/v1/signing/roots')).body);
    // The retired keys hold none of root 3's: nothing more can be signed with them.
    const stale = await berth('tuf', 'rotate-online-keys', '--root-keys', offline, ...target);
    expect([stale.code, stale.err]).toEqual([1, expect.stringContaining('holds 0 of the root')]);
    const bad = await berth('tuf', 'rotate-root-keys', '--root-keys', successors, '--keys', '2', '--threshold', '3', '--out', join(h.dir, 'x'), ...target);
    expect([bad.code, bad.err]).toEqual([2, expect.stringContaining('--threshold must be 1 to the number of keys (2), not 3')]);
  });
});

/** The root's signed part as JSON. */
const rootOf = (text: string) => JSON.parse(text).signed as { roles: Record<'root' | 'timestamp', { keyids: string[] }> };
