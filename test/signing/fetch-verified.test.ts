import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, sha256Digest } from '../../common/digest.js';
import { pushComponent } from '../../oci/artifact.js';
import { RegistryClient } from '../../oci/client.js';
import { parseReference, pinned } from '../../oci/reference.js';
import { RegistrySource } from '../../oci/source.js';
import { VerificationCache } from '../../trust/signing/cache.js';
import { fetchVerified } from '../../trust/signing/fetch-verified.js';
import { generateVendorKey, loadPrivateKey } from '../../trust/signing/keys.js';
import { compilePolicy } from '../../trust/signing/policy.js';
import { provenanceStatement } from '../../trust/signing/provenance.js';
import { serializeBundle, signComponent, signStatement } from '../../trust/signing/sign.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const vendor = generateVendorKey();
const key = loadPrivateKey(vendor.privateKeyPem);
const policy = compilePolicy({ vendor: 'acme', publicKeys: [vendor.publicKeyPem] });

function wasm(): Uint8Array {
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, ...randomBytes(4096)]);
}
function sig(bytes: Uint8Array) {
  return { kind: 'message-signature' as const, bytes: serializeBundle(signComponent(bytes, key)) };
}

describe('pull by digest, then verify (admission and device path) against docker-registry', () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let source: RegistrySource;
  beforeAll(async () => {
    registry = await startRegistry({ tls: true, basicAuth: { username: 'acme', password: 'acme-password' } });
    const options = { ca: registry.caPem!, credentials: registry.credentials! };
    client = new RegistryClient(registry.host, options);
    source = new RegistrySource(() => options);
  });
  afterAll(async () => registry?.stop());

  it('admits a signed component: tag resolved once, then everything by digest', async () => {
    const component = wasm();
    await pushComponent(client, 'acme/ok', '1.0.0', component, [sig(component)]);
    const ref = parseReference(`oci://${registry.host}/acme/ok:1.0.0`);
    const digest = await source.resolve(ref);
    const result = await fetchVerified(source, { ...pinned(ref, digest), digest }, policy);
    expect(result.verified.componentDigest).toBe(sha256Digest(component));
    expect(result.verified.signer).toEqual({ kind: 'key', keyId: vendor.keyId });
  });

  it("refuses an artifact outside the vendor's namespace before fetching it", async () => {
    const component = wasm();
    const pushed = await pushComponent(client, 'globex/app', '1.0.0', component, [sig(component)]);
    const scoped = compilePolicy({ vendor: 'acme', publicKeys: [vendor.publicKeyPem], repositories: [`${registry.host.replace(/[.]/g, '\\.')}/acme/.+`] });
    const ref = parseReference(`oci://${registry.host}/globex/app:1.0.0`);
    await expect(fetchVerified(source, { ...pinned(ref, pushed.manifestDigest), digest: pushed.manifestDigest }, scoped)).rejects.toMatchObject({
      code: 'policy.namespace',
      message: expect.stringContaining(`${registry.host}/globex/app is outside vendor 'acme''s namespace`),
    });
    const own = await pushComponent(client, 'acme/app', '1.0.0', component, [sig(component)]);
    const ownRef = parseReference(`oci://${registry.host}/acme/app:1.0.0`);
    expect((await fetchVerified(source, { ...pinned(ownRef, own.manifestDigest), digest: own.manifestDigest }, scoped)).verified.vendor).toBe('acme');
  });

  it('refuses an unsigned component and one signed by another vendor', async () => {
    const unsigned = wasm();
    const a = await pushComponent(client, 'acme/unsigned', '1.0.0', unsigned, []);
    const ref = parseReference(`oci://${registry.host}/acme/unsigned:1.0.0`);
    await expect(fetchVerified(source, { ...pinned(ref, a.manifestDigest), digest: a.manifestDigest }, policy)).rejects.toMatchObject({
      code: 'signing.unsigned',
    });

    const foreign = wasm();
    const other = loadPrivateKey(generateVendorKey().privateKeyPem);
    const b = await pushComponent(client, 'acme/foreign', '1.0.0', foreign, [
      { kind: 'message-signature', bytes: serializeBundle(signComponent(foreign, other)) },
    ]);
    const ref2 = parseReference(`oci://${registry.host}/acme/foreign:1.0.0`);
    await expect(fetchVerified(source, { ...pinned(ref2, b.manifestDigest), digest: b.manifestDigest }, policy)).rejects.toMatchObject({
      code: 'signing.untrusted-key',
    });
  });

  it('refuses a provenance statement about another digest', async () => {
    const component = wasm();
    const statement = provenanceStatement({ name: 'x.wasm', digest: sha256Digest('other'), builderId: 'https://ci.acme.example/b' });
    const pushed = await pushComponent(client, 'acme/prov', '1.0.0', component, [
      sig(component),
      { kind: 'dsse-envelope', bytes: serializeBundle(signStatement(statement, key)) },
    ]);
    const ref = parseReference(`oci://${registry.host}/acme/prov:1.0.0`);
    await expect(fetchVerified(source, { ...pinned(ref, pushed.manifestDigest), digest: pushed.manifestDigest }, policy)).rejects.toMatchObject({
      code: 'provenance.subject-mismatch',
    });
  });

  it('a device refuses an artifact whose blob was swapped in the registry after admission', async () => {
    const component = wasm();
    const pushed = await pushComponent(client, 'acme/swapped', '1.0.0', component, [sig(component)]);
    const ref = parseReference(`oci://${registry.host}/acme/swapped:1.0.0`);
    const admitted = await source.resolve(ref);
    const cache = new VerificationCache();
    await fetchVerified(source, { ...pinned(ref, admitted), digest: admitted }, policy, { cache });

    const hex = digestHex(pushed.componentDigest);
    const dir = join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex);
    expect(await readdir(dir)).toContain('data');
    const swapped = Uint8Array.from(component);
    swapped[20] = swapped[20]! ^ 0xff;
    await writeFile(join(dir, 'data'), swapped);
    // A fresh device (new client, same cache even) still checks the digest of every blob.
    await expect(
      fetchVerified(
        new RegistrySource(() => ({ ca: registry.caPem!, credentials: registry.credentials! })),
        { ...pinned(ref, admitted), digest: admitted },
        policy,
        { cache },
      ),
    ).rejects.toMatchObject({
      code: 'oci.digest-mismatch',
    });
  });

  it('a moved tag does not change what a pinned deployment pulls; rotation keeps old and new valid', async () => {
    const v1 = wasm();
    await pushComponent(client, 'acme/moving', '1.0.0', v1, [sig(v1)]);
    const ref = parseReference(`oci://${registry.host}/acme/moving:1.0.0`);
    const admitted = await source.resolve(ref);

    const next = generateVendorKey();
    const v1b = wasm();
    await pushComponent(client, 'acme/moving', '1.0.0', v1b, [
      { kind: 'message-signature', bytes: serializeBundle(signComponent(v1b, loadPrivateKey(next.privateKeyPem))) },
    ]);
    const rotated = compilePolicy({ vendor: 'acme', publicKeys: [vendor.publicKeyPem, next.publicKeyPem] });

    const running = await fetchVerified(source, { ...pinned(ref, admitted), digest: admitted }, rotated);
    expect(running.verified.componentDigest).toBe(sha256Digest(v1));
    const moved = await source.resolve(ref);
    expect(moved).not.toBe(admitted);
    const fresh = await fetchVerified(source, { ...pinned(ref, moved), digest: moved }, rotated);
    expect(fresh.verified.signer).toEqual({ kind: 'key', keyId: next.keyId });
    await expect(fetchVerified(source, { ...pinned(ref, moved), digest: moved }, policy)).rejects.toMatchObject({ code: 'signing.untrusted-key' });
  });
});
