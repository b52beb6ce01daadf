import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestHex, sha256Digest, type Digest } from '../../common/digest.js';
import { pushComponent } from '../../oci/artifact.js';
import { RegistryClient } from '../../oci/client.js';
import { MEDIA_TYPE } from '../../oci/media-types.js';
import { deviceMirrorTls, mirrorRepository, MirrorSource } from '../../oci/mirror-source.js';
import { parseReference, pinned, type Reference } from '../../oci/reference.js';
import { RegistrySource } from '../../oci/source.js';
import { enroll } from '../../runtime/agent/enroll.js';
import { fetchVerified } from '../../trust/signing/fetch-verified.js';
import { generateVendorKey, loadPrivateKey } from '../../trust/signing/keys.js';
import { compilePolicy } from '../../trust/signing/policy.js';
import { provenanceStatement } from '../../trust/signing/provenance.js';
import { serializeBundle, signComponent, signStatement } from '../../trust/signing/sign.js';
import { call, startHarness, type Harness } from '../orchestrator/harness.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { addVendor, hello, register } from '../supply-chain/support.js';

const vendor = generateVendorKey();
const key = loadPrivateKey(vendor.privateKeyPem);
const policyDocument = { vendor: 'acme', publicKeys: [vendor.publicKeyPem], require: { provenance: true } };
const policy = compilePolicy(policyDocument);

async function pushSigned(client: RegistryClient, repository: string, tag: string, component: Uint8Array) {
  const statement = provenanceStatement({ name: 'app.wasm', digest: sha256Digest(component), builderId: 'https://ci.acme.example/b' });
  return pushComponent(client, repository, tag, component, [
    { kind: 'message-signature', bytes: serializeBundle(signComponent(component, key)) },
    { kind: 'dsse-envelope', predicateType: 'https://slsa.dev/provenance/v1', bytes: serializeBundle(signStatement(statement, key)) },
  ]);
}

describe('the control plane mirror serving an air-gapped device (origin: docker-registry, referrers tag schema)', () => {
  let origin: TestRegistry;
  let h: Harness;
  let work: string;
  let n = 0;
  // A real component: admission reads its imports.
  const component = hello();
  let ref: Reference & { digest: Digest };

  async function onboard(deviceId: string): Promise<{ dir: string; source: MirrorSource }> {
    const token = await h.enrollmentToken({ deviceId });
    const dir = join(work, `device-${n++}`);
    await enroll({ url: h.cp.url, ca: h.ca, dir, credential: { kind: 'token', token } });
    // The device knows the control plane and nothing else: no registry address, no registry CA.
    return { dir, source: new MirrorSource({ url: h.cp.url, tls: deviceMirrorTls(dir), client: { attempts: 1 } }) };
  }

  beforeAll(async () => {
    origin = await startRegistry();
    h = await startHarness({ registries: { [origin.host]: { plainHttp: true } } });
    work = mkdtempSync(join(tmpdir(), 'berth-mirror-'));
    const acme = await addVendor(h, 'acme', { ...policyDocument, repositories: ['127\\.0\\.0\\.1:[0-9]+/acme/.+'] }, 'sensor');
    const pushed = await pushSigned(new RegistryClient(origin.host, { plainHttp: true }), 'acme/sensor', '1.0.0', component);
    // Admission (the catalog API) verifies and then copies into the mirror: no separate step.
    const admitted = await register(acme, 'sensor', '1.0.0', `oci://${origin.host}/acme/sensor:1.0.0`);
    expect(admitted.status, JSON.stringify(admitted.body)).toBe(201);
    ref = { ...pinned(parseReference(`oci://${origin.host}/acme/sensor:1.0.0`), pushed.manifestDigest), digest: pushed.manifestDigest };
    const repository = mirrorRepository(ref);
    expect(repository).toBe(`${origin.host.replace(':', '_')}/acme/sensor`);
    expect((await h.cp.mirror.storage.manifest(repository, ref.digest))?.digest).toBe(ref.digest);
    expect(await h.cp.mirror.storage.referrers(repository, ref.digest)).toHaveLength(2);
    // Air gap: the origin registry is gone before any device pulls.
    await origin.stop();
  });
  afterAll(async () => {
    await h?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('gives the device the verified artifact although the origin registry is unreachable', async () => {
    const device = await onboard('gateway-1');
    await expect(new RegistrySource(() => ({ plainHttp: true, attempts: 1 })).fetch(ref)).rejects.toMatchObject({ code: 'oci.connection' });
    const verified = await fetchVerified(device.source, ref, policy);
    expect(verified.manifestDigest).toBe(ref.digest);
    expect(Buffer.compare(verified.component, Buffer.from(component))).toBe(0);
    expect(verified.verified.signer).toEqual({ kind: 'key', keyId: vendor.keyId });
    expect(verified.verified.provenance).toBeDefined();
    expect(h.logs.some((l) => l.msg === 'mirror: manifest served to device' && l.deviceId === 'gateway-1')).toBe(true);
  });

  it('serves the referrers through the API and the referrers tag it copied', async () => {
    const device = await onboard('gateway-2');
    const tls = await deviceMirrorTls(device.dir)();
    const client = new RegistryClient(device.source.host, { ca: tls.ca, key: tls.key, cert: tls.cert, attempts: 1 });
    const repository = `${ref.registry.replace(':', '_')}/acme/sensor`;
    const api = await client.getReferrers(repository, ref.digest);
    expect(api?.via).toBe('api');
    expect(api?.index.manifests).toHaveLength(2);
    const tagIndex = await client.getManifest(repository, `sha256-${digestHex(ref.digest)}`, [MEDIA_TYPE.imageIndex]);
    expect(
      JSON.parse(tagIndex.bytes.toString())
        .manifests.map((d: { digest: string }) => d.digest)
        .sort(),
    ).toEqual(api!.index.manifests.map((d) => d.digest).sort());
  });

  it('refuses a revoked device, a device without a certificate, writes, and tags', async () => {
    const device = await onboard('stolen-1');
    expect((await device.source.fetch(ref)).manifestDigest).toBe(ref.digest);
    const revoked = await h.admin('POST', '/api/v1/admin/device-revocations', { deviceId: 'stolen-1', reason: 'stolen' });
    expect(revoked.status).toBe(200);
    await expect(device.source.fetch(ref)).rejects.toMatchObject({ code: 'oci.unauthorized', message: expect.stringContaining('device.revoked') });
    expect(h.events('device.refused_revoked').some((e) => e.deviceId === 'stolen-1')).toBe(true);

    const anonymous = await call(`${h.cp.url}/v2/`, { ca: h.ca });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors[0]).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('tls.no_client_certificate') });

    const other = await onboard('gateway-3');
    const tls = await deviceMirrorTls(other.dir)();
    const write = await call(`${h.cp.url}/v2/${ref.registry.replace(':', '_')}/acme/sensor/blobs/uploads/`, {
      method: 'POST',
      ca: h.ca,
      key: tls.key,
      cert: tls.cert,
    });
    expect(write.status).toBe(405);
    expect(write.body.errors[0].code).toBe('UNSUPPORTED');
    await expect(other.source.resolve(parseReference(`oci://${ref.registry}/acme/sensor:1.0.0`))).rejects.toMatchObject({ code: 'mirror.digest-required' });
    const unknown = await call(`${h.cp.url}/v2/${ref.registry.replace(':', '_')}/acme/sensor/manifests/${sha256Digest('nothing')}`, {
      ca: h.ca,
      key: tls.key,
      cert: tls.cert,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0].code).toBe('MANIFEST_UNKNOWN');
  });

  it('lets the device detect a blob swapped in the mirror storage', async () => {
    const device = await onboard('gateway-4');
    const path = join(h.dir, 'mirror', 'blobs', 'sha256', digestHex(sha256Digest(component)));
    const original = await readFile(path);
    const swapped = Buffer.from(original);
    swapped[100] = swapped[100]! ^ 0xff;
    await writeFile(path, swapped);
    try {
      await expect(fetchVerified(device.source, ref, policy)).rejects.toMatchObject({ code: 'oci.digest-mismatch' });
    } finally {
      await writeFile(path, original);
    }
    expect((await fetchVerified(device.source, ref, policy)).manifestDigest).toBe(ref.digest);
  });
});
