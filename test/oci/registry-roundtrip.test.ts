import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256Digest, digestHex } from '../../common/digest.js';
import { RegistryClient } from '../../oci/client.js';
import { pullComponent, pushComponent, resolveTag, type AttachedBundle } from '../../oci/artifact.js';
import { RegistrySource } from '../../oci/source.js';
import { parseReference } from '../../oci/reference.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const component = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, ...randomBytes(300_000)]);
const signature: AttachedBundle = { kind: 'message-signature', bytes: new TextEncoder().encode('{"mediaType":"sig"}') };
const attestation: AttachedBundle = {
  kind: 'dsse-envelope',
  predicateType: 'https://slsa.dev/provenance/v1',
  bytes: new TextEncoder().encode('{"mediaType":"att"}'),
};

describe.each([
  { name: 'anonymous over HTTP', options: {} },
  { name: 'basic auth over TLS with a private CA', options: { tls: true, basicAuth: { username: 'vendor', password: 'pw-123456' } } },
])('push and pull against docker-registry 2.8 ($name)', ({ options }) => {
  let registry: TestRegistry;
  let client: RegistryClient;
  beforeAll(async () => {
    registry = await startRegistry(options);
    client = new RegistryClient(registry.host, {
      plainHttp: !options.tls,
      ...(registry.caPem ? { ca: registry.caPem } : {}),
      ...(registry.credentials ? { credentials: registry.credentials } : {}),
    });
  });
  afterAll(async () => registry?.stop());

  it('round-trips the component and its attached bundles through the referrers tag', async () => {
    const pushed = await pushComponent(client, 'acme/sensor', '1.2.0', component, [signature, attestation]);
    expect(pushed.componentDigest).toBe(sha256Digest(component));
    expect(pushed.referrers).toHaveLength(2);
    expect(await resolveTag(client, 'acme/sensor', '1.2.0')).toBe(pushed.manifestDigest);

    const pulled = await pullComponent(client, 'acme/sensor', pushed.manifestDigest);
    expect(Buffer.compare(pulled.component, Buffer.from(component))).toBe(0);
    expect(pulled.bundles.map((b) => [b.kind, b.predicateType, Buffer.from(b.bytes).toString()])).toEqual([
      ['message-signature', undefined, '{"mediaType":"sig"}'],
      ['dsse-envelope', 'https://slsa.dev/provenance/v1', '{"mediaType":"att"}'],
    ]);
    // Registries without the referrers API carry them in the sha256-<hex> tag.
    const referrers = await client.getReferrers('acme/sensor', pushed.manifestDigest);
    expect(referrers?.via).toBe('tag');
  });

  it('adds to the referrers index on a second push instead of replacing it', async () => {
    const first = await pushComponent(client, 'acme/pump', '2.0.0', component, [signature]);
    const second = await pushComponent(client, 'acme/pump', '2.0.0', component, [attestation]);
    expect(second.manifestDigest).toBe(first.manifestDigest);
    const pulled = await pullComponent(client, 'acme/pump', first.manifestDigest);
    expect(pulled.bundles.map((b) => b.kind).sort()).toEqual(['dsse-envelope', 'message-signature']);
  });

  it('keeps a pinned digest meaning the same artifact after the tag moves', async () => {
    const source = new RegistrySource(() => ({
      plainHttp: !options.tls,
      ...(registry.caPem ? { ca: registry.caPem } : {}),
      ...(registry.credentials ? { credentials: registry.credentials } : {}),
    }));
    const ref = parseReference(`oci://${registry.host}/acme/valve:1.0.0`);
    await pushComponent(client, 'acme/valve', '1.0.0', component, []);
    const admitted = await source.resolve(ref);
    const other = new Uint8Array([...component.subarray(0, 8), 1, 2, 3]);
    await pushComponent(client, 'acme/valve', '1.0.0', other, []);
    expect(await source.resolve(ref)).not.toBe(admitted);
    const pulled = await source.fetch({ ...ref, digest: admitted });
    expect(pulled.componentDigest).toBe(sha256Digest(component));
  });

  it('uploads a large blob in PATCH chunks and reports progress across them', async () => {
    const chunked = new RegistryClient(registry.host, {
      plainHttp: !options.tls,
      uploadChunkBytes: 64 * 1024,
      ...(registry.caPem ? { ca: registry.caPem } : {}),
      ...(registry.credentials ? { credentials: registry.credentials } : {}),
    });
    const big = new Uint8Array([0, 0x61, 0x73, 0x6d, ...randomBytes(200_000)]);
    const seen: number[] = [];
    const pushed = await pushComponent(chunked, 'acme/chunked', '1.0.0', big, [], { component: (done) => seen.push(done) });
    expect(seen.at(-1)).toBe(big.byteLength);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    const pulled = await pullComponent(client, 'acme/chunked', pushed.manifestDigest);
    expect(Buffer.compare(pulled.component, Buffer.from(big))).toBe(0);
  });

  it('refuses a blob swapped on the registry disk after push', async () => {
    const small = new Uint8Array([0, 0x61, 0x73, 0x6d, 9, 9, 9, 9]);
    const pushed = await pushComponent(client, 'acme/tampered', '1.0.0', small, []);
    const hex = digestHex(pushed.componentDigest);
    const dataPath = join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    expect(await readdir(join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2)))).toContain(hex);
    await writeFile(dataPath, new Uint8Array([0, 0x61, 0x73, 0x6d, 6, 6, 6, 6]));
    await expect(pullComponent(client, 'acme/tampered', pushed.manifestDigest)).rejects.toMatchObject({ code: 'oci.digest-mismatch' });
  });
});

describe('registry credentials', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ basicAuth: { username: 'vendor', password: 'right-password' } });
  });
  afterAll(async () => registry?.stop());

  it('names missing credentials', async () => {
    const client = new RegistryClient(registry.host, { plainHttp: true });
    await expect(resolveTag(client, 'acme/x', '1.0.0')).rejects.toMatchObject({ code: 'oci.unauthorized', message: expect.stringMatching(/credentials/) });
  });

  it('names refused credentials', async () => {
    const client = new RegistryClient(registry.host, { plainHttp: true, credentials: { username: 'vendor', password: 'wrong' } });
    await expect(resolveTag(client, 'acme/x', '1.0.0')).rejects.toMatchObject({ code: 'oci.unauthorized', message: expect.stringMatching(/refused/) });
  });

  it('refuses a TLS registry whose CA it was not given', async () => {
    const tls = await startRegistry({ tls: true });
    try {
      const client = new RegistryClient(tls.host, { attempts: 1 });
      await expect(resolveTag(client, 'acme/x', '1.0.0')).rejects.toMatchObject({ code: 'oci.tls' });
    } finally {
      await tls.stop();
    }
  });
});
