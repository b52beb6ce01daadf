import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestHex, sha256Digest, type Digest } from '../../common/digest.js';
import { componentManifest, pushComponent } from '../../oci/artifact.js';
import { RegistryClient, referrersTag } from '../../oci/client.js';
import { encodeJson, imageManifestSchema, parseJson, type Descriptor } from '../../oci/manifest.js';
import { ANNOTATION, EMPTY_JSON, MEDIA_TYPE } from '../../oci/media-types.js';
import { deviceMirrorTls, mirrorRepository, MirrorSource } from '../../oci/mirror-source.js';
import type { Reference } from '../../oci/reference.js';
import { enroll } from '../../runtime/agent/enroll.js';
import { fetchVerified } from '../../trust/signing/fetch-verified.js';
import { generateVendorKey, loadPrivateKey } from '../../trust/signing/keys.js';
import { compilePolicy } from '../../trust/signing/policy.js';
import { serializeBundle, signComponent } from '../../trust/signing/sign.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { addVendor, hello, register, type Caller } from '../supply-chain/support.js';

const vendor = generateVendorKey();
const key = loadPrivateKey(vendor.privateKeyPem);
const policyDocument = { vendor: 'acme', publicKeys: [vendor.publicKeyPem] };
const policy = compilePolicy(policyDocument);

/**
 * Version 2.0.0 is the same component as 1.0.0 (same layer, same config) under a manifest with
 * an annotation: another manifest digest, its own signature, but every component blob shared.
 * Written as pushComponent writes, for a registry without the referrers API (tag schema).
 */
async function pushAnnotated(
  client: RegistryClient,
  repository: string,
  tag: string,
  component: Uint8Array,
): Promise<{ manifestDigest: Digest; referrers: Digest[] }> {
  const { manifest, config } = componentManifest(component);
  await client.pushBlob(repository, component);
  await client.pushBlob(repository, config);
  const bytes = encodeJson({ ...manifest, annotations: { 'org.opencontainers.image.version': tag } });
  const { digest } = await client.putManifest(repository, tag, bytes, MEDIA_TYPE.imageManifest);
  const bundle = serializeBundle(signComponent(component, key));
  const bundleDescriptor: Descriptor = { mediaType: MEDIA_TYPE.sigstoreBundle, digest: await client.pushBlob(repository, bundle), size: bundle.byteLength };
  await client.pushBlob(repository, EMPTY_JSON);
  const referrer = encodeJson({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.imageManifest,
    artifactType: MEDIA_TYPE.sigstoreBundle,
    config: { mediaType: MEDIA_TYPE.emptyJson, digest: sha256Digest(EMPTY_JSON), size: EMPTY_JSON.byteLength },
    layers: [bundleDescriptor],
    subject: { mediaType: MEDIA_TYPE.imageManifest, digest, size: bytes.byteLength },
    annotations: { [ANNOTATION.bundleContent]: 'message-signature' },
  });
  const put = await client.putManifest(repository, sha256Digest(referrer), referrer, MEDIA_TYPE.imageManifest);
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.imageIndex,
    manifests: [
      {
        mediaType: MEDIA_TYPE.imageManifest,
        digest: put.digest,
        size: referrer.byteLength,
        artifactType: MEDIA_TYPE.sigstoreBundle,
        annotations: { [ANNOTATION.bundleContent]: 'message-signature' },
      },
    ],
  };
  await client.putManifest(repository, referrersTag(digest), encodeJson(index), MEDIA_TYPE.imageIndex);
  return { manifestDigest: digest, referrers: [put.digest] };
}

const blobFiles = async (h: Harness) => new Set(await readdir(join(h.dir, 'mirror', 'blobs', 'sha256')));

describe('mirror garbage collection after a version is retired (origin: docker-registry, referrers tag schema)', () => {
  let origin: TestRegistry;
  let h: Harness;
  let acme: Caller;
  let work: string;
  const component = hello();
  let repository: string;
  let v1: { manifestDigest: Digest; referrers: Digest[] };
  let v2: { manifestDigest: Digest; referrers: Digest[] };
  let ref2: Reference & { digest: Digest };

  beforeAll(async () => {
    origin = await startRegistry();
    // minAge 0: the files just copied are old enough; the lock is what protects admissions here.
    h = await startHarness({ registries: { [origin.host]: { plainHttp: true } }, mirrorGcMinAgeMs: 0 });
    work = mkdtempSync(join(tmpdir(), 'berth-mirror-gc-'));
    acme = await addVendor(h, 'acme', { ...policyDocument, repositories: ['127\\.0\\.0\\.1:[0-9]+/acme/.+'] }, 'sensor');
    const client = new RegistryClient(origin.host, { plainHttp: true });
    v1 = await pushComponent(client, 'acme/sensor', '1.0.0', component, [{ kind: 'message-signature', bytes: serializeBundle(signComponent(component, key)) }]);
    v2 = await pushAnnotated(client, 'acme/sensor', '2.0.0', component);
    for (const v of ['1.0.0', '2.0.0']) {
      const admitted = await register(acme, 'sensor', v, `oci://${origin.host}/acme/sensor:${v}`);
      expect(admitted.status, JSON.stringify(admitted.body)).toBe(201);
    }
    ref2 = { registry: origin.host, repository: 'acme/sensor', digest: v2.manifestDigest };
    repository = mirrorRepository(ref2);
    expect(v1.manifestDigest).not.toBe(v2.manifestDigest);
    await origin.stop(); // the device pulls from the mirror alone
  });
  afterAll(async () => {
    const dir = h?.dir;
    await h?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('removes what only the retired version used, keeps shared blobs and the other version, which a device still pulls', async () => {
    const storage = h.cp.mirror.storage;
    const manifestOf = async (d: Digest) => parseJson((await storage.manifest(repository, d))!.bytes, imageManifestSchema, 'test');
    // What only 1.0.0 has: its manifest, its signature manifest and bundle, its referrers-tag index.
    const tagIndex1 = (await storage.manifest(repository, referrersTag(v1.manifestDigest)))!.digest;
    const bundle1 = (await manifestOf(v1.referrers[0]!)).layers[0]!.digest;
    const only1 = [v1.manifestDigest, v1.referrers[0]!, bundle1, tagIndex1].map(digestHex);
    // Shared: the layer, the wasm config, the empty JSON config of every signature manifest.
    const m2 = await manifestOf(v2.manifestDigest);
    const shared = [m2.layers[0]!.digest, m2.config.digest, sha256Digest(EMPTY_JSON)].map(digestHex);
    expect(m2.layers[0]!.digest).toBe((await manifestOf(v1.manifestDigest)).layers[0]!.digest);
    const before = await blobFiles(h);
    for (const hex of [...only1, ...shared]) expect(before.has(hex), hex).toBe(true);

    const retired = await acme('DELETE', '/api/v1/catalog/apps/sensor/versions/1.0.0');
    expect(retired.status, JSON.stringify(retired.body)).toBe(204);
    await h.cp.mirrorCollector.idle();

    const after = await blobFiles(h);
    expect([...before].filter((hex) => !after.has(hex)).sort()).toEqual([...only1].sort());
    for (const hex of shared) expect(after.has(hex), hex).toBe(true);
    // The repository's links went with them; 2.0.0's stay.
    expect(await storage.manifest(repository, v1.manifestDigest)).toBeUndefined();
    expect(await storage.referrers(repository, v1.manifestDigest)).toEqual([]);
    expect(await storage.tags(repository)).toEqual([referrersTag(v2.manifestDigest)]);
    expect((await storage.referrers(repository, v2.manifestDigest)).map((d) => d.digest)).toEqual(v2.referrers);
    expect(h.logs.some((l) => l.msg === 'mirror garbage collected' && l.blobs === only1.length)).toBe(true);

    // A device that knows only the control plane pulls 2.0.0 and verifies it.
    const token = await h.enrollmentToken({ deviceId: 'gc-device' });
    const dir = join(work, 'device');
    await enroll({ url: h.cp.url, ca: h.ca, dir, credential: { kind: 'token', token } });
    const source = new MirrorSource({ url: h.cp.url, tls: deviceMirrorTls(dir), client: { attempts: 1 } });
    const verified = await fetchVerified(source, ref2, policy);
    expect(Buffer.compare(verified.component, Buffer.from(component))).toBe(0);
    await expect(source.fetch({ ...ref2, digest: v1.manifestDigest })).rejects.toMatchObject({ code: 'oci.not-found' });

    // Nothing more to collect: a second run removes nothing.
    expect(await h.cp.mirrorCollector.collect()).toEqual({ links: 0, blobs: 0, bytes: 0 });
  });

  it('waits for an admission between its copy and its commit; leaves young files alone', async () => {
    const storage = h.cp.mirror.storage;
    // An orphan, as an admission's copy is until its row commits.
    const orphan = new TextEncoder().encode('{"orphan":true}');
    await storage.putBlob(repository, orphan, sha256Digest(orphan));
    let release!: () => void;
    const admission = h.cp.mirror.hold(() => new Promise<void>((r) => (release = r)));
    let collected = false;
    const collection = h.cp.mirrorCollector.collect().then((r) => ((collected = true), r));
    await new Promise((r) => setTimeout(r, 200));
    expect(collected).toBe(false);
    expect((await blobFiles(h)).has(digestHex(sha256Digest(orphan)))).toBe(true);
    release();
    await admission;
    expect((await collection).blobs).toBe(1);
    expect((await blobFiles(h)).has(digestHex(sha256Digest(orphan)))).toBe(false);

    // With the default age rule, a file written a moment ago stays.
    await storage.putBlob(repository, orphan, sha256Digest(orphan));
    const { MirrorCollector } = await import('../../orchestrator/mirror/gc.js');
    const careful = new MirrorCollector({ store: h.cp.deps.store, storage, lock: h.cp.mirror.lock });
    expect(await careful.collect()).toEqual({ links: 0, blobs: 0, bytes: 0 });
    expect((await blobFiles(h)).has(digestHex(sha256Digest(orphan)))).toBe(true);
  });

  it('collects at control-plane start what is older than the age rule', async () => {
    // Left behind as by a retirement on another replica: a repository no version names.
    const stale = new TextEncoder().encode('{"stale":true}');
    await h.cp.mirror.storage.putBlob('127.0.0.1_1/acme/gone', stale, sha256Digest(stale));
    const hour = new Date(Date.now() - 3_600_000);
    const layer = join(h.dir, 'mirror', 'repositories', '127.0.0.1_1', 'acme', 'gone', '_layers', digestHex(sha256Digest(stale)));
    for (const path of [layer, join(h.dir, 'mirror', 'blobs', 'sha256', digestHex(sha256Digest(stale)))]) await utimes(path, hour, hour);
    const dataDir = h.dir;
    await h.cp.close();
    h = await startHarness({ dataDir }); // default age rule
    await h.cp.mirrorCollector.idle();
    expect(await h.cp.mirror.storage.repositoryNames()).toEqual([repository]);
    expect((await blobFiles(h)).has(digestHex(sha256Digest(stale)))).toBe(false);
    expect(await h.cp.mirror.storage.manifest(repository, v2.manifestDigest)).toBeDefined();
  });
});
