import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Digest, type Digest } from '../../common/digest.js';
import { RegistrySource } from '../../oci/source.js';
import { getManifest } from '../../orchestrator/store/desired-state.js';
import { VerificationCache } from '../../trust/signing/cache.js';
import { verifyDeploymentArtifact } from '../../trust/signing/deployment-artifact.js';
import { generateVendorKey, loadPrivateKey } from '../../trust/signing/keys.js';
import { addDevice } from '../deployments/fixtures.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { addVendor, clientOptions, flipped, hello, push, refusal, register, signature, swapBlob, variant, type Caller } from './support.js';

// What happens after admission: tags that move, keys that rotate, registries that get
// tampered with. The device-side call is the one the agent makes (trust/signing/deployment-artifact.ts).
const k1 = generateVendorKey();
const k2 = generateVendorKey();
const NAMESPACE = ['127\\.0\\.0\\.1:[0-9]+/rotco/.+'];
const policy = (...keys: string[]) => ({ vendor: 'rotco', publicKeys: keys, repositories: NAMESPACE });

let registry: TestRegistry;
let h: Harness;
let rotco: Caller;
let source: RegistrySource;
beforeAll(async () => {
  registry = await startRegistry({ tls: true });
  h = await startHarness({ registries: { [registry.host]: clientOptions(registry) } });
  rotco = await addVendor(h, 'rotco', policy(k1.publicKeyPem), 'meter');
  await addDevice(h.cp.deps.store, 'line-1');
  source = new RegistrySource(() => clientOptions(registry));
});
afterAll(async () => {
  await h?.stop();
  await registry?.stop();
});

async function publish(version: string, key: typeof k1, label = version): Promise<{ manifestDigest: Digest; componentDigest: Digest; component: Uint8Array }> {
  const component = variant(hello(), label);
  const pushed = await push(registry, 'rotco/meter', version, component, [signature(component, loadPrivateKey(key.privateKeyPem))]);
  return { ...pushed, component };
}
const deploy = (body: Record<string, unknown>) => h.admin('POST', '/api/v1/admin/deployments', { app: 'meter', grants: { log: {} }, ...body });
/** The ApplicationDeployment documents line-1's desired state names, as text. */
async function documentsOf(device: string): Promise<string> {
  const m = await h.cp.desiredState.manifest(device);
  const body = JSON.parse(m.bytes.toString('utf8')) as { deployments: { digest: string }[] };
  const docs = await Promise.all(body.deployments.map((d) => h.cp.desiredState.document(device, d.digest)));
  return docs.map((d) => d!.bytes.toString('utf8')).join('\n');
}
const manifestVersion = async (device: string) => (await getManifest(h.cp.deps.store, device))?.manifestVersion ?? 0;

describe('after admission', () => {
  let v1: Awaited<ReturnType<typeof publish>>;

  it('a tag moved in the registry changes nothing admitted: the version and devices keep the admitted digest', async () => {
    v1 = await publish('1.0.0', k1);
    expect((await register(rotco, 'meter', '1.0.0', `oci://${registry.host}/rotco/meter:1.0.0`)).status).toBe(201);
    expect((await deploy({ id: 'meter-line-1', version: '1.0.0', deviceIds: ['line-1'] })).body.placed).toEqual(['line-1']);

    const moved = await publish('1.0.0', k1, 'moved');
    expect(moved.manifestDigest).not.toBe(v1.manifestDigest);
    const listed = (await h.admin('GET', '/api/v1/catalog/apps/meter/versions')).body.versions;
    expect(listed.map((v: { component: { digest: string } }) => v.component.digest)).toEqual([v1.manifestDigest]);
    const deployed = await documentsOf('line-1');
    expect(deployed).toContain(v1.manifestDigest);
    expect(deployed).not.toContain(moved.manifestDigest);
    // The device pulls by the admitted digest and gets the admitted bytes.
    const onDevice = await verifyDeploymentArtifact(
      source,
      { repository: `oci://${registry.host}/rotco/meter`, digest: v1.manifestDigest },
      policy(k1.publicKeyPem),
    );
    expect(onDevice.verified.componentDigest).toBe(sha256Digest(v1.component));
    // New deployments of 1.0.0 still use the admitted digest, not the tag.
    expect((await deploy({ id: 'meter-again', version: '1.0.0' })).status).toBe(201);
  });

  it('key rotation: both keys count during the overlap; once the old key is removed its versions are refused for new deployments, and running devices get the new policy', async () => {
    const before = await manifestVersion('line-1');
    const overlap = await h.admin('PUT', '/api/v1/catalog/vendors/rotco/trust-policy', { trustPolicy: policy(k1.publicKeyPem, k2.publicKeyPem) });
    expect(overlap.body.rerenderedDevices).toBe(1);
    expect(await manifestVersion('line-1')).toBeGreaterThan(before);

    await publish('2.0.0', k2);
    expect((await register(rotco, 'meter', '2.0.0', `oci://${registry.host}/rotco/meter:2.0.0`)).status).toBe(201);
    // The policy changed since 1.0.0 was admitted: a full re-check, which the old key still passes.
    expect((await deploy({ id: 'meter-old-key', version: '1.0.0' })).status).toBe(201);

    const afterOverlap = await manifestVersion('line-1');
    expect((await h.admin('PUT', '/api/v1/catalog/vendors/rotco/trust-policy', { trustPolicy: policy(k2.publicKeyPem) })).status).toBe(200);
    expect(await manifestVersion('line-1')).toBeGreaterThan(afterOverlap);
    // The policy the device verifies against travels in its signed documents: the new key only.
    const docs = await documentsOf('line-1');
    const keyLine = (pem: string) => pem.split('\n')[1]!;
    expect(docs).toContain(keyLine(k2.publicKeyPem));
    expect(docs).not.toContain(keyLine(k1.publicKeyPem));

    const refused = await deploy({ id: 'meter-refused', version: '1.0.0' });
    expect(refusal(refused)).toMatchObject({ status: 422, code: 'signing.untrusted-key', field: 'version' });
    expect((await h.admin('GET', '/api/v1/admin/deployments/meter-refused')).status).toBe(404);
    // Rolling the running deployment forward to the new key's version is allowed, and back to
    // the old key's version is refused the same way.
    expect((await h.admin('POST', '/api/v1/admin/deployments/meter-again/rollouts', { version: '2.0.0' })).status).toBe(202);
    expect((await deploy({ id: 'meter-new-key', version: '2.0.0' })).status).toBe(201);
    const back = await h.admin('POST', '/api/v1/admin/deployments/meter-new-key/rollouts', { version: '1.0.0' });
    expect(refusal(back)).toMatchObject({ status: 422, code: 'signing.untrusted-key', field: 'version' });
    // Nor does a rollback bring the removed key's version back, and the rollout is left as it was.
    const rolledBack = await h.admin('POST', '/api/v1/admin/deployments/meter-again/rollbacks', {});
    expect(refusal(rolledBack)).toMatchObject({ status: 422, code: 'signing.untrusted-key', field: 'rollout.previousVersion' });
    expect((await h.admin('GET', '/api/v1/admin/deployments/meter-again')).body.rollout).toMatchObject({ previousVersion: '1.0.0', targetVersion: '2.0.0' });
    // The device, verifying against the policy its signed desired state now carries, refuses too.
    await expect(
      verifyDeploymentArtifact(source, { repository: `oci://${registry.host}/rotco/meter`, digest: v1.manifestDigest }, policy(k2.publicKeyPem)),
    ).rejects.toMatchObject({
      code: 'signing.untrusted-key',
    });
  });

  it('the device refuses an artifact whose blob was swapped in the registry after admission, naming the artifact and the reason', async () => {
    const v3 = await publish('3.0.0', k2);
    expect((await register(rotco, 'meter', '3.0.0', `oci://${registry.host}/rotco/meter:3.0.0`)).status).toBe(201);
    const component = { repository: `oci://${registry.host}/rotco/meter`, digest: v3.manifestDigest };
    const cache = new VerificationCache();
    expect((await verifyDeploymentArtifact(source, component, policy(k2.publicKeyPem), cache)).verified.vendor).toBe('rotco');

    await swapBlob(registry, v3.componentDigest, flipped(v3.component, v3.component.length - 2));
    const refused = verifyDeploymentArtifact(new RegistrySource(() => clientOptions(registry)), component, policy(k2.publicKeyPem), cache);
    await expect(refused).rejects.toMatchObject({
      code: 'oci.digest-mismatch',
      message: expect.stringContaining(`artifact oci://${registry.host}/rotco/meter@${v3.manifestDigest} refused:`),
    });
  });

  it('the device call refuses what is not a pull by digest against a usable policy of the right vendor', async () => {
    const repository = `oci://${registry.host}/rotco/meter`;
    await expect(
      verifyDeploymentArtifact(source, { repository: `${repository}:1.0.0`, digest: v1.manifestDigest }, policy(k1.publicKeyPem)),
    ).rejects.toMatchObject({ code: 'artifact.bad-reference' });
    await expect(verifyDeploymentArtifact(source, { repository, digest: 'sha256:nope' as Digest }, policy(k1.publicKeyPem))).rejects.toMatchObject({
      code: 'artifact.bad-reference',
    });
    await expect(verifyDeploymentArtifact(source, { repository, digest: v1.manifestDigest }, { vendor: 'rotco' })).rejects.toMatchObject({
      code: 'policy.invalid',
    });
    await expect(
      verifyDeploymentArtifact(source, { repository, digest: v1.manifestDigest }, policy(k1.publicKeyPem), undefined, { vendor: 'globex' }),
    ).rejects.toMatchObject({
      code: 'policy.invalid',
      message: expect.stringMatching(/vendor 'rotco''s, but the deployment is vendor 'globex''s/),
    });
    await expect(
      verifyDeploymentArtifact(source, { repository: `oci://${registry.host}/other/meter`, digest: v1.manifestDigest }, policy(k1.publicKeyPem)),
    ).rejects.toMatchObject({ code: 'policy.namespace' });
  });
});
