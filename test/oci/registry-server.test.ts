import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, sha256Digest } from '../../common/digest.js';
import { pullComponent, pushComponent, resolveTag, type AttachedBundle } from '../../oci/artifact.js';
import { RegistryClient } from '../../oci/client.js';
import { startRegistryServer, type RunningRegistryServer } from '../../oci/server/serve.js';
import { generateVendorKey, loadPrivateKey } from '../../trust/signing/keys.js';
import { compilePolicy } from '../../trust/signing/policy.js';
import { serializeBundle, signComponent } from '../../trust/signing/sign.js';
import { verifyComponent } from '../../trust/signing/verify.js';
import { suiteTempDir } from '../support/tmp.js';

const vendor = generateVendorKey();
const policy = compilePolicy({ vendor: 'acme', publicKeys: [vendor.publicKeyPem] });

function wasm(size = 4096): Uint8Array {
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, ...randomBytes(size)]);
}
function signature(component: Uint8Array): AttachedBundle {
  return { kind: 'message-signature', bytes: serializeBundle(signComponent(component, loadPrivateKey(vendor.privateKeyPem))) };
}
const attestation: AttachedBundle = {
  kind: 'dsse-envelope',
  predicateType: 'https://slsa.dev/provenance/v1',
  bytes: new TextEncoder().encode('{"mediaType":"att"}'),
};

describe('Berth client against the embedded registry', () => {
  const dir = suiteTempDir('oci-server');
  let registry: RunningRegistryServer;
  let client: RegistryClient;
  beforeAll(async () => {
    registry = await startRegistryServer({ dir });
    client = new RegistryClient(registry.host, { plainHttp: true, attempts: 1 });
  });
  afterAll(async () => registry?.close());

  it('pushes, resolves, pulls and verifies a signed component, with referrers from the referrers API', async () => {
    const component = wasm(300_000);
    const pushed = await pushComponent(client, 'acme/sensor', '1.2.0', component, [signature(component), attestation]);
    expect(pushed.referrers).toHaveLength(2);
    expect(await resolveTag(client, 'acme/sensor', '1.2.0')).toBe(pushed.manifestDigest);
    const referrers = await client.getReferrers('acme/sensor', pushed.manifestDigest);
    // The server answered OCI-Subject, so no referrers tag was written.
    expect(referrers?.via).toBe('api');
    expect(referrers?.index.manifests.map((d) => d.annotations?.['dev.sigstore.bundle.content']).sort()).toEqual(['dsse-envelope', 'message-signature']);
    const tags = await fetch(`${registry.url}/v2/acme/sensor/tags/list`).then((r) => r.json());
    expect(tags).toEqual({ name: 'acme/sensor', tags: ['1.2.0'] });

    const pulled = await pullComponent(client, 'acme/sensor', pushed.manifestDigest);
    expect(Buffer.compare(pulled.component, Buffer.from(component))).toBe(0);
    const verified = verifyComponent(policy, pulled.component, pulled.bundles);
    expect(verified.componentDigest).toBe(sha256Digest(component));
  });

  it('takes a large blob in PATCH chunks', async () => {
    const chunked = new RegistryClient(registry.host, { plainHttp: true, attempts: 1, uploadChunkBytes: 64 * 1024 });
    const big = wasm(200_000);
    const seen: number[] = [];
    const pushed = await pushComponent(chunked, 'acme/chunked', '1.0.0', big, [], { component: (done) => seen.push(done) });
    expect(seen.length).toBeGreaterThanOrEqual(4);
    const pulled = await pullComponent(client, 'acme/chunked', pushed.manifestDigest);
    expect(Buffer.compare(pulled.component, Buffer.from(big))).toBe(0);
  });

  it('serves a blob swapped on disk as it is, and the client refuses it', async () => {
    const component = wasm(64);
    const pushed = await pushComponent(client, 'acme/tampered', '1.0.0', component, []);
    const path = join(dir, 'blobs/sha256', digestHex(pushed.componentDigest));
    expect(await readdir(join(dir, 'blobs/sha256'))).toContain(digestHex(pushed.componentDigest));
    await writeFile(path, wasm(64));
    await expect(pullComponent(client, 'acme/tampered', pushed.manifestDigest)).rejects.toMatchObject({ code: 'oci.digest-mismatch' });
  });
});

describe('embedded registry storage under concurrency and crashes', () => {
  const dir = suiteTempDir('oci-server-concurrent');
  let registry: RunningRegistryServer;
  let client: RegistryClient;
  beforeAll(async () => {
    registry = await startRegistryServer({ dir });
    client = new RegistryClient(registry.host, { plainHttp: true, attempts: 1 });
  });
  afterAll(async () => registry?.close());

  it('ends concurrent pushes of the same and of different components in a consistent store', async () => {
    const same = wasm(50_000);
    const others = Array.from({ length: 4 }, () => wasm(20_000));
    const results = await Promise.all([
      ...Array.from({ length: 4 }, () => pushComponent(client, 'acme/race', '1.0.0', same, [signature(same)])),
      ...others.map((c, i) => pushComponent(client, 'acme/race', `2.0.${i}`, c, [])),
    ]);
    expect(new Set(results.slice(0, 4).map((r) => r.manifestDigest)).size).toBe(1);
    for (const [i, c] of others.entries())
      expect((await pullComponent(client, 'acme/race', await resolveTag(client, 'acme/race', `2.0.${i}`))).componentDigest).toBe(sha256Digest(c));
    const pulled = await pullComponent(client, 'acme/race', results[0]!.manifestDigest);
    expect(verifyComponent(policy, pulled.component, pulled.bundles).componentDigest).toBe(sha256Digest(same));
    expect(await readdir(join(dir, '_tmp'))).toEqual([]);
  });

  it('drops half-written files of a crash at the next start, and forgets expired upload sessions', async () => {
    const { RegistryStorage } = await import('../../oci/server/storage.js');
    const { registryApp } = await import('../../oci/server/routes.js');
    const crashed = join(dir, 'crashed');
    const first = await RegistryStorage.open(crashed);
    await writeFile(first.tempPath(), 'half a blob');
    await RegistryStorage.open(crashed);
    expect(await readdir(join(crashed, '_tmp'))).toEqual([]);

    const app = registryApp({ storage: await RegistryStorage.open(join(dir, 'ttl')), uploadTtlMs: 0 });
    const opened = await app.request('/v2/acme/app/blobs/uploads/', { method: 'POST' });
    const location = opened.headers.get('location')!;
    await new Promise((r) => setTimeout(r, 5));
    await app.request('/v2/acme/app/blobs/uploads/', { method: 'POST' }); // sweeps
    const late = await app.request(location, { method: 'PATCH', body: new Uint8Array([1, 2, 3]) });
    expect(late.status).toBe(404);
    expect(await late.json()).toMatchObject({ errors: [{ code: 'BLOB_UPLOAD_UNKNOWN' }] });
  });
});
