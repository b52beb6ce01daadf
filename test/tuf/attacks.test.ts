import { mkdir, rm } from 'node:fs/promises';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, MetadataKind, MetaFile, Timestamp } from '@tufjs/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initRepository, rotateOnlineKeys } from '../../cli/tuf/ceremony.js';
import { tufSigningKeyFromPem, type TufSigningKey } from '../../trust/tuf/keys.js';
import { newRoot, tufRootFingerprint, tufTime } from '../../trust/tuf/root.js';
import { pinRoot, TufTrustClient } from '../../trust/tuf/client.js';
import { FLEET_TARGETS } from '../../wire/tuf.js';
import type { ApiCall } from '../../cli/api-subcommand.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { testTrustPolicy } from '../support/verified-catalog.js';
import { MaliciousRepository } from './malicious-repository.js';
import { tufClient } from './support.js';

const PATHS = Object.values(FLEET_TARGETS);

/**
 * A device's TUF client (trust/tuf/client.ts) against a repository an attacker controls, one
 * test per attack class the TUF specification names (docs/tuf.md, "Attacks"): each refused with
 * its own code, and the client still trusting what it trusted before.
 */
describe('a device TUF client against a malicious repository', () => {
  let h: Harness;
  let api: ApiCall;
  let offline: string;
  beforeAll(async () => {
    h = await startHarness({ authorityRefreshMs: 0 });
    api = async (method, path, body) => {
      const r = await h.admin(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    offline = mkdtempSync(join(tmpdir(), 'berth-tuf-offline-'));
    await initRepository(api, { keys: 3, threshold: 2, out: offline });
  });
  afterAll(async () => h?.stop());

  /** A device that pinned root 1 by its fingerprint and did one honest round. */
  async function device(): Promise<{ client: TufTrustClient; repo: MaliciousRepository; dir: string }> {
    const repo = new MaliciousRepository({ ca: h.ca });
    const { client, dir } = await tufClient(h, join(offline, '1.root.json'), repo);
    await client.update(PATHS);
    return { client, repo, dir };
  }
  const onlineKey = (role: 'timestamp' | 'snapshot' | 'targets'): TufSigningKey => {
    const root = JSON.parse(readFileSync(join(offline, `${latestRootVersion()}.root.json`), 'utf8'));
    const id = root.signed.roles[role].keyids[0] as string;
    return tufSigningKeyFromPem(readFileSync(join(h.dir, 'pki', 'tuf', `${id}.pem`), 'utf8'), role);
  };
  let rootVersion = 1;
  const latestRootVersion = () => rootVersion;
  const served = async (name: string): Promise<string> => JSON.stringify((await h.admin('GET', `/api/v1/tuf/metadata/${name}`)).body);
  const newTrustDocument = async (vendor: string) => {
    expect((await h.admin('POST', '/api/v1/catalog/vendors', { name: vendor, trustPolicy: testTrustPolicy(vendor) })).status).toBe(201);
    expect(await h.cp.deps.tuf!.keepCurrent()).toContain('targets');
  };
  const timestampSignedBy = (key: TufSigningKey, o: { version: number; expires: Date; snapshot: MetaFile }) => {
    const md = new Metadata(new Timestamp({ version: o.version, specVersion: '1.0.31', expires: tufTime(o.expires), snapshotMeta: o.snapshot }));
    md.sign(key.sign);
    return JSON.stringify(md.toJSON());
  };

  it('arbitrary software: a trust document swapped for the attacker’s is refused by its signed hash', async () => {
    const { client, repo, dir } = await device();
    repo.forge('.signing-roots.json', '{"signingCas":["the attacker’s CA"],"timestampAuthorities":[]}');
    // Nothing cached: the document must come from the repository.
    await rm(join(dir, 'targets'), { recursive: true, force: true });
    await mkdir(join(dir, 'targets'));
    await expect(client.update(PATHS)).rejects.toMatchObject({ code: 'tuf.hash_mismatch' });
  });

  it('rollback: an older timestamp, once a newer one is trusted, is refused', async () => {
    const old = await served('timestamp.json');
    await newTrustDocument('rollback');
    const { client, repo } = await device();
    repo.forge('/timestamp.json', old);
    await expect(client.update(PATHS)).rejects.toMatchObject({ code: 'tuf.rollback' });
    repo.honest();
    expect((await client.update(PATHS)).size).toBe(PATHS.length);
  });

  it('indefinite freeze: metadata past its expiry is refused even when validly signed', async () => {
    const { client, repo } = await device();
    const snapshot = JSON.parse(await served('timestamp.json')).signed.meta['snapshot.json'];
    const current = JSON.parse(await served('timestamp.json')).signed.version as number;
    repo.forge(
      '/timestamp.json',
      timestampSignedBy(onlineKey('timestamp'), { version: current + 1, expires: new Date(Date.now() - 60_000), snapshot: MetaFile.fromJSON(snapshot) }),
    );
    await expect(client.update(PATHS)).rejects.toMatchObject({ code: 'tuf.expired' });
  });

  it('endless data: a timestamp that never ends is cut at its bound and refused', async () => {
    const { client, repo } = await device();
    let sent = 0;
    repo.forge('/timestamp.json', async function* () {
      // Bounded here too, so a client that did not stop would fail the test rather than hang it.
      for (let i = 0; i < 10_000; i++) {
        sent += 1024;
        yield new Uint8Array(1024).fill(0x20);
      }
    });
    await expect(client.update(PATHS)).rejects.toMatchObject({ code: 'tuf.too_large' });
    expect(sent).toBeLessThan(10_000 * 1024);
  });

  it('mix-and-match: targets of another version under the number the snapshot names are refused', async () => {
    const { client, repo } = await device();
    const before = (await h.cp.deps.tuf!.status()).targets!.version;
    await newTrustDocument('mixmatch');
    repo.forge(`/${before + 1}.targets.json`, await served(`${before}.targets.json`));
    await expect(client.update(PATHS)).rejects.toMatchObject({ code: 'tuf.version_mismatch' });
  });

  it('threshold: a next root signed by fewer root keys than the threshold is refused', async () => {
    const { client, repo } = await device();
    const rootKeys = [1, 2, 3].map((n) => tufSigningKeyFromPem(readFileSync(join(offline, `root-key-${n}.pem`), 'utf8'), `root key ${n}`));
    const next = newRoot({
      version: rootVersion + 1,
      expires: new Date(Date.now() + 86_400_000),
      rootKeys: rootKeys.map((k) => k.key),
      threshold: 2,
      online: { targets: onlineKey('targets').key, snapshot: onlineKey('snapshot').key, timestamp: onlineKey('timestamp').key },
    });
    const oneKey = rootKeys[0]!;
    next.sign(oneKey.sign);
    repo.forge(`/${rootVersion + 1}.root.json`, JSON.stringify(next.toJSON()));
    await expect(client.update(PATHS)).rejects.toMatchObject({ code: 'tuf.bad_signature' });
  });

  it('key compromise and fast-forward: a stolen timestamp key pushes a device far ahead; rotation brings it back and the stolen key is refused', async () => {
    const { client, repo, dir } = await device();
    const stolen = onlineKey('timestamp');
    const timestamp = JSON.parse(await served('timestamp.json'));
    // While the key is still trusted, the thief's timestamp is valid: the device takes version 1,000,000.
    const ahead = timestampSignedBy(stolen, {
      version: 1_000_000,
      expires: new Date(Date.now() + 86_400_000),
      snapshot: MetaFile.fromJSON(timestamp.signed.meta['snapshot.json']),
    });
    repo.forge('/timestamp.json', ahead);
    await client.update(PATHS);
    expect(JSON.parse(readFileSync(join(dir, 'timestamp.json'), 'utf8')).signed.version).toBe(1_000_000);
    // The honest repository's timestamp now looks like a rollback to it.
    repo.honest();
    await expect(client.update(PATHS)).rejects.toMatchObject({ code: 'tuf.rollback' });

    await rotateOnlineKeys(api, offline);
    rootVersion = 2;
    // Root 2 names a new timestamp key: the fast-forwarded timestamp no longer verifies and is dropped.
    expect((await client.update(PATHS)).size).toBe(PATHS.length);
    expect(JSON.parse(readFileSync(join(dir, 'timestamp.json'), 'utf8')).signed.version).toBeLessThan(1_000_000);
    repo.forge(
      '/timestamp.json',
      timestampSignedBy(stolen, {
        version: 2_000_000,
        expires: new Date(Date.now() + 86_400_000),
        snapshot: MetaFile.fromJSON(timestamp.signed.meta['snapshot.json']),
      }),
    );
    await expect(client.update(PATHS)).rejects.toMatchObject({ code: 'tuf.bad_signature' });
  });

  it('a root offered with another fingerprint than the one configured is not pinned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-tuf-device-'));
    const root = readFileSync(join(offline, '1.root.json'));
    await expect(pinRoot(dir, root, 'ab'.repeat(32))).rejects.toMatchObject({ code: 'tuf.root_fingerprint' });
    const tampered = Buffer.from(root.toString('utf8').replace('"version":1', '"version":7'));
    expect(tampered.equals(root)).toBe(false);
    await expect(pinRoot(dir, tampered, tufRootFingerprint(tampered))).rejects.toMatchObject({ code: 'tuf.root_untrusted' });
  });
});
