import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Digest } from '../../common/digest.js';
import type { Progress } from '../../oci/client.js';
import type { Reference } from '../../oci/reference.js';
import { RegistrySource, type ArtifactSource } from '../../oci/source.js';
import { ArtifactAdmission } from '../../orchestrator/catalog/artifact-admission.js';
import { addVersion } from '../../orchestrator/catalog/service.js';
import { createDeployment } from '../../orchestrator/deployments/admission.js';
import { deploymentBody } from '../../orchestrator/deployments/schema.js';
import * as catalog from '../../orchestrator/store/catalog.js';
import { openStore, type Store } from '../../orchestrator/store/store.js';
import { generateVendorKey, loadPrivateKey } from '../../trust/signing/keys.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { clientOptions, hello, push, signature, variant } from './support.js';

// The registry is asked outside any transaction; the transaction then makes sure the vendor's
// policy is still the one the artifact was checked against. These tests change the policy
// while the registry is being asked (from inside the source) and expect a retryable 409 and
// nothing stored.
const k1 = generateVendorKey();
const k2 = generateVendorKey();
const policy = (...keys: string[]) => ({ vendor: 'acme', publicKeys: keys, repositories: ['127\\.0\\.0\\.1:[0-9]+/acme/.+'] });

let dir: string;
let store: Store;
let registry: TestRegistry;
let meanwhile: (() => Promise<void>) | undefined;

/** A registry source that runs `meanwhile` (once) while an admission is talking to the registry. */
class InterleavingSource implements ArtifactSource {
  constructor(private readonly inner: ArtifactSource) {}
  async resolve(ref: Reference): Promise<Digest> {
    return this.inner.resolve(ref);
  }
  async fetch(ref: Reference & { digest: Digest }, onProgress?: Progress) {
    const fetched = await this.inner.fetch(ref, onProgress);
    const step = meanwhile;
    meanwhile = undefined;
    await step?.();
    return fetched;
  }
}

let admission: ArtifactAdmission;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-admission-races-'));
  store = await openStore({ kind: 'pglite', dataDir: join(dir, 'store') });
  registry = await startRegistry();
  admission = new ArtifactAdmission({ source: new InterleavingSource(new RegistrySource(() => clientOptions(registry))) });
  await catalog.insertVendor(store, 'acme', policy(k1.publicKeyPem));
  await catalog.insertApp(store, { id: 'sensor', vendor: 'acme', description: '' });
});
afterAll(async () => {
  await store?.close();
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const reference = (v: string) => `oci://${registry.host}/acme/sensor:${v}`;

describe('a trust policy changed while the registry is being asked', () => {
  it('registration: 409 catalog.policy_changed, retryable, nothing stored; the retry under the new policy is admitted', async () => {
    const component = variant(hello(), 'race-1');
    await push(registry, 'acme/sensor', '1.0.0', component, [signature(component, loadPrivateKey(k1.privateKeyPem))]);
    meanwhile = async () => void (await catalog.setTrustPolicy(store, 'acme', policy(k1.publicKeyPem, k2.publicKeyPem)));
    await expect(
      addVersion(store, 'vendor:acme', 'sensor', { version: '1.0.0', component: { reference: reference('1.0.0') } }, admission),
    ).rejects.toMatchObject({
      status: 409,
      code: 'catalog.policy_changed',
      extras: { retryable: true },
    });
    expect(await catalog.getVersion(store, 'sensor', '1.0.0')).toBeUndefined();
    const retried = await addVersion(store, 'vendor:acme', 'sensor', { version: '1.0.0', component: { reference: reference('1.0.0') } }, admission);
    expect(retried.verification?.signer).toBe(`key ${k1.keyId}`);
  });

  it('deployment: a policy change during the full re-check is a 409 deployment.policy_changed and no deployment', async () => {
    // The policy differs from the one stored at admission, so the re-check pulls; meanwhile it changes again.
    await catalog.setTrustPolicy(store, 'acme', policy(k2.publicKeyPem, k1.publicKeyPem));
    meanwhile = async () => void (await catalog.setTrustPolicy(store, 'acme', policy(k2.publicKeyPem)));
    const body = deploymentBody.parse({ id: 'raced', app: 'sensor', version: '1.0.0', grants: { log: {} } });
    await expect(createDeployment(store, body, 'test', async () => {}, admission)).rejects.toMatchObject({ status: 409, code: 'deployment.policy_changed' });
    expect(await store.query('SELECT id FROM deployments')).toEqual([]);
    // Under the policy that won, the old key's version is refused outright.
    await expect(createDeployment(store, body, 'test', async () => {}, admission)).rejects.toMatchObject({ status: 422, code: 'signing.untrusted-key' });
  });
});
