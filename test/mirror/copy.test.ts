import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, sha256Digest, type Digest } from '../../common/digest.js';
import { pushComponent } from '../../oci/artifact.js';
import { RegistryClient } from '../../oci/client.js';
import { encodeJson } from '../../oci/manifest.js';
import { EMPTY_JSON, MEDIA_TYPE } from '../../oci/media-types.js';
import { mirrorRepository } from '../../oci/mirror-source.js';
import type { Reference } from '../../oci/reference.js';
import { startRegistryServer, type RunningRegistryServer } from '../../oci/server/serve.js';
import { RegistryStorage } from '../../oci/server/storage.js';
import { RegistrySource } from '../../oci/source.js';
import { ArtifactMirror } from '../../orchestrator/mirror/mirror.js';
import { suiteTempDir } from '../support/tmp.js';

function wasm(): Uint8Array {
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, ...randomBytes(4096)]);
}
const signature = (n: number) => ({ kind: 'message-signature' as const, bytes: new TextEncoder().encode(`{"sig":${n}}`) });

describe('mirror copies (origin: the embedded registry, referrers API)', () => {
  const dir = suiteTempDir('mirror-copy');
  let origin: RunningRegistryServer;
  let client: RegistryClient;
  let storage: RegistryStorage;
  let mirror: ArtifactMirror;
  const pin = (repository: string, digest: Digest): Reference & { digest: Digest } => ({ registry: origin.host, repository, digest });

  beforeAll(async () => {
    origin = await startRegistryServer({ dir: join(dir, 'origin') });
    client = new RegistryClient(origin.host, { plainHttp: true, attempts: 1 });
    storage = await RegistryStorage.open(join(dir, 'mirror'));
    mirror = new ArtifactMirror(storage, new RegistrySource(() => ({ plainHttp: true, attempts: 1 })));
  });
  afterAll(async () => origin?.close());

  it('copies component, config and bundles, and nothing else from the referrers list', async () => {
    const component = wasm();
    const pushed = await pushComponent(client, 'acme/app', '1.0.0', component, [signature(1), signature(2)]);
    // Another kind of referrer (an SBOM, say) is left at the origin.
    await client.pushBlob('acme/app', EMPTY_JSON);
    const sbom = encodeJson({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.imageManifest,
      artifactType: 'application/spdx+json',
      config: { mediaType: MEDIA_TYPE.emptyJson, digest: sha256Digest(EMPTY_JSON), size: EMPTY_JSON.byteLength },
      layers: [],
      subject: { mediaType: MEDIA_TYPE.imageManifest, digest: pushed.manifestDigest, size: 1 },
    });
    await client.putManifest('acme/app', sha256Digest(sbom), sbom, MEDIA_TYPE.imageManifest);
    expect((await client.getReferrers('acme/app', pushed.manifestDigest))?.index.manifests).toHaveLength(3);
    const copied = await mirror.copyArtifact(pin('acme/app', pushed.manifestDigest));
    expect(copied.referrers.sort()).toEqual([...pushed.referrers].sort());
    const repository = mirrorRepository({ registry: origin.host, repository: 'acme/app' });
    expect((await storage.manifest(repository, pushed.manifestDigest))?.digest).toBe(pushed.manifestDigest);
    expect(await storage.blob(repository, sha256Digest(component))).toBeDefined();
    expect((await storage.referrers(repository, pushed.manifestDigest)).map((d) => d.digest).sort()).toEqual([...pushed.referrers].sort());
    // The origin answered through the referrers API: no tag to copy, and none is made up.
    expect(await storage.tags(repository)).toEqual([]);
  });

  it('re-hashes what it already holds and fetches an altered copy again', async () => {
    const component = wasm();
    const pushed = await pushComponent(client, 'acme/heal', '1.0.0', component, [signature(3)]);
    await mirror.copy(pin('acme/heal', pushed.manifestDigest));
    const path = join(dir, 'mirror', 'blobs', 'sha256', digestHex(sha256Digest(component)));
    const original = await readFile(path);
    await writeFile(path, Buffer.alloc(original.byteLength, 7));
    await mirror.copy(pin('acme/heal', pushed.manifestDigest));
    expect(Buffer.compare(await readFile(path), original)).toBe(0);
  });

  it('refuses what is not a component, stores nothing of an unknown digest, and names the origin', async () => {
    await expect(mirror.copy(pin('acme/app', sha256Digest('absent')))).rejects.toMatchObject({ code: 'oci.not-found' });
    const config = new TextEncoder().encode('{}');
    const layer = randomBytes(64);
    await client.pushBlob('acme/image', config);
    await client.pushBlob('acme/image', layer);
    const image = encodeJson({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.imageManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.byteLength },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(layer), size: layer.byteLength }],
    });
    const { digest } = await client.putManifest('acme/image', '1.0.0', image, MEDIA_TYPE.imageManifest);
    await expect(mirror.copy(pin('acme/image', digest))).rejects.toMatchObject({ code: 'oci.wrong-media-type' });
    const repository = mirrorRepository({ registry: origin.host, repository: 'acme/image' });
    expect(await storage.hasRepository(repository)).toBe(false);
    expect(await readdir(join(dir, 'mirror', '_tmp'))).toEqual([]);
  });

  it('refuses a component whose layer was swapped at the origin, before the manifest is stored', async () => {
    const component = wasm();
    const pushed = await pushComponent(client, 'acme/swapped', '1.0.0', component, []);
    await writeFile(join(dir, 'origin', 'blobs', 'sha256', digestHex(sha256Digest(component))), wasm());
    await expect(mirror.copy(pin('acme/swapped', pushed.manifestDigest))).rejects.toMatchObject({ code: 'oci.digest-mismatch' });
    const repository = mirrorRepository({ registry: origin.host, repository: 'acme/swapped' });
    expect(await storage.manifest(repository, pushed.manifestDigest)).toBeUndefined();
  });
});

describe('mirror repository names', () => {
  it('maps each origin to its own repository, unambiguously', () => {
    expect(mirrorRepository({ registry: 'registry.example.com', repository: 'acme/app' })).toBe('registry.example.com/acme/app');
    expect(mirrorRepository({ registry: 'registry.example.com:5000', repository: 'acme/app' })).toBe('registry.example.com_5000/acme/app');
    expect(mirrorRepository({ registry: '10.0.0.7:443', repository: 'acme/app' })).toBe('10.0.0.7_443/acme/app');
    expect(mirrorRepository({ registry: '[fe80::1]:5000', repository: 'acme/app' })).toBe('ip6_fe80.0.0.0.0.0.0.1_5000/acme/app');
    expect(mirrorRepository({ registry: '[::1]', repository: 'a' })).toBe('ip6_0.0.0.0.0.0.0.1/a');
    // A registry host cannot contain '_', so a port is never confused with a name.
    expect(mirrorRepository({ registry: 'registry.example.com', repository: 'x_5000/acme/app' })).not.toBe(
      mirrorRepository({ registry: 'registry.example.com:5000', repository: 'acme/app' }),
    );
  });

  it('refuses origins it cannot name', () => {
    expect(() => mirrorRepository({ registry: 'example.com', repository: 'a'.repeat(250) })).toThrow(expect.objectContaining({ code: 'mirror.bad-reference' }));
    expect(() => mirrorRepository({ registry: '[1::2::3]', repository: 'a' })).toThrow(expect.objectContaining({ code: 'mirror.bad-reference' }));
    expect(() => mirrorRepository({ registry: 'host/../x', repository: 'a' })).toThrow(expect.objectContaining({ code: 'mirror.bad-reference' }));
  });
});
