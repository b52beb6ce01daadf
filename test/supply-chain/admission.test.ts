import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { sha256Digest } from '../../common/digest.js';
import { inspectComponent } from '../../runtime/component/inspect.js';
import { generateVendorKey, loadPrivateKey } from '../../trust/signing/keys.js';
import { provenanceStatement } from '../../trust/signing/provenance.js';
import { serializeBundle, signComponentWithCertificate, signStatement } from '../../trust/signing/sign.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { addVendor, clientOptions, flipped, hello, literal, push, refusal, register, signature, swapBlob, variant, type Caller } from './support.js';

// Admission against Debian's docker-registry: TLS from a private CA with basic auth, and an
// anonymous plain-HTTP one. Every refusal is a 422 problem naming `component.reference` and
// carrying the reason's own code; nothing refused is stored.
const acmeKey = generateVendorKey();
const acmePrivate = loadPrivateKey(acmeKey.privateKeyPem);
const LOCAL = '127\\.0\\.0\\.1:[0-9]+';

let registry: TestRegistry;
let plain: TestRegistry;
let h: Harness;
let acme: Caller;
beforeAll(async () => {
  [registry, plain] = await Promise.all([startRegistry({ tls: true, basicAuth: { username: 'acme', password: 'acme-registry-pw' } }), startRegistry()]);
  h = await startHarness({ registries: { [registry.host]: clientOptions(registry), [plain.host]: clientOptions(plain) }, admissionTimeoutMs: 30_000 });
  acme = await addVendor(h, 'acme', { vendor: 'acme', publicKeys: [acmeKey.publicKeyPem], repositories: [`${LOCAL}/acme/.+`] }, 'sensor');
});
afterAll(async () => {
  await h?.stop();
  await Promise.all([registry?.stop(), plain?.stop()]);
});

const versions = async (app: string) =>
  ((await h.admin('GET', `/api/v1/catalog/apps/${app}/versions`)).body.versions as Array<{ version: string }>).map((v) => v.version);

describe('admission of a signed component', () => {
  it('from a TLS + basic-auth registry: digest, size and imports come from the verified artifact, and grants are checked against them', async () => {
    const component = hello();
    const pushed = await push(registry, 'acme/sensor', '1.0.0', component, [signature(component, acmePrivate)]);
    const admitted = await register(acme, 'sensor', '1.0.0', `oci://${registry.host}/acme/sensor:1.0.0`);
    expect(admitted.status, JSON.stringify(admitted.body)).toBe(201);
    expect(admitted.body.component).toEqual({ repository: `oci://${registry.host}/acme/sensor`, digest: pushed.manifestDigest, sizeBytes: component.length });
    expect(admitted.body.imports).toEqual(inspectComponent(component).imports);
    expect(admitted.body.imports).toContain('berth:host/log@0.1.0');
    expect(admitted.body.verification).toMatchObject({ componentDigest: sha256Digest(component), signer: `key ${acmeKey.keyId}` });

    // The grants are checked against what the component really imports.
    const ungranted = await h.admin('POST', '/api/v1/admin/deployments', { app: 'sensor', version: '1.0.0', grants: {} });
    expect(refusal(ungranted)).toMatchObject({ status: 422, code: 'deployment.grants_refused', field: 'grants' });
    expect(ungranted.body.detail).toContain('berth:host/log');
    expect((await h.admin('POST', '/api/v1/admin/deployments', { id: 'sensor-all', app: 'sensor', version: '1.0.0', grants: { log: {} } })).status).toBe(201);
    // Versions are immutable: the same version again is refused before any registry is asked.
    expect((await register(acme, 'sensor', '1.0.0', `oci://${registry.host}/acme/sensor:1.0.0`)).status).toBe(409);
  });

  it('from an anonymous plain-HTTP registry, by a digest-pinned reference', async () => {
    const component = variant(hello(), 'pinned');
    const pushed = await push(plain, 'acme/sensor', '2.0.0', component, [signature(component, acmePrivate)]);
    const admitted = await register(acme, 'sensor', '2.0.0', `oci://${plain.host}/acme/sensor@${pushed.manifestDigest}`);
    expect(admitted.status, JSON.stringify(admitted.body)).toBe(201);
    expect(admitted.body.component.digest).toBe(pushed.manifestDigest);
  });
});

describe('refusals, each naming why', () => {
  const refuse = async (version: string, reference: string, as: Caller = acme, app = 'sensor') => {
    const answer = await register(as, app, version, reference);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(await versions(app)).not.toContain(version);
    return refusal(answer);
  };

  it('a blob swapped in the registry (tampered): its bytes do not hash to the manifest', async () => {
    const component = variant(hello(), 'tampered');
    const pushed = await push(registry, 'acme/sensor', '3.0.0', component, [signature(component, acmePrivate)]);
    await swapBlob(registry, pushed.componentDigest, flipped(component, component.length - 3));
    expect(await refuse('3.0.0', `oci://${registry.host}/acme/sensor:3.0.0`)).toMatchObject({
      status: 422,
      code: 'oci.digest-mismatch',
      field: 'component.reference',
    });
  });

  it('an unsigned component', async () => {
    const component = variant(hello(), 'unsigned');
    await push(registry, 'acme/sensor', '3.1.0', component, []);
    const r = await refuse('3.1.0', `oci://${registry.host}/acme/sensor:3.1.0`);
    expect(r).toMatchObject({ status: 422, code: 'signing.unsigned', field: 'component.reference' });
    expect(r.detail).toMatch(/carries no signature/);
  });

  it("a component signed with another vendor's key", async () => {
    const component = variant(hello(), 'foreign');
    const globex = loadPrivateKey(generateVendorKey().privateKeyPem);
    await push(registry, 'acme/sensor', '3.2.0', component, [signature(component, globex)]);
    const r = await refuse('3.2.0', `oci://${registry.host}/acme/sensor:3.2.0`);
    expect(r).toMatchObject({ status: 422, code: 'signing.untrusted-key' });
    expect(r.detail).toMatch(/not signed by vendor 'acme'/);
  });

  it('a provenance statement whose subject is another digest', async () => {
    const component = variant(hello(), 'other-subject');
    const statement = provenanceStatement({ name: 'sensor.wasm', digest: sha256Digest(randomBytes(32)), builderId: 'https://ci.acme.example/b' });
    await push(registry, 'acme/sensor', '3.3.0', component, [
      signature(component, acmePrivate),
      { kind: 'dsse-envelope', bytes: serializeBundle(signStatement(statement, acmePrivate)) },
    ]);
    expect(await refuse('3.3.0', `oci://${registry.host}/acme/sensor:3.3.0`)).toMatchObject({ status: 422, code: 'provenance.subject-mismatch' });
  });

  it('a component without the provenance its vendor requires', async () => {
    const key = generateVendorKey();
    const strict = await addVendor(
      h,
      'strict',
      { vendor: 'strict', publicKeys: [key.publicKeyPem], repositories: [`${LOCAL}/strict/.+`], require: { provenance: true } },
      'strict-app',
    );
    const component = variant(hello(), 'no-provenance');
    await push(registry, 'strict/app', '1.0.0', component, [signature(component, loadPrivateKey(key.privateKeyPem))]);
    expect(await refuse('1.0.0', `oci://${registry.host}/strict/app:1.0.0`, strict, 'strict-app')).toMatchObject({ status: 422, code: 'provenance.missing' });
  });

  it('a signed layer that is not a WebAssembly component', async () => {
    const notAComponent = new Uint8Array([0, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0, ...randomBytes(64)]);
    await push(registry, 'acme/sensor', '3.5.0', notAComponent, [signature(notAComponent, acmePrivate)]);
    const r = await refuse('3.5.0', `oci://${registry.host}/acme/sensor:3.5.0`);
    expect(r).toMatchObject({ status: 422, code: 'malformed-component', field: 'component.reference' });
  });

  it("an artifact outside the vendor's namespace, a tag that is not the version, a tag the registry does not have", async () => {
    const component = variant(hello(), 'elsewhere');
    await push(registry, 'globex/sensor', '3.4.0', component, [signature(component, acmePrivate)]);
    expect(await refuse('3.4.0', `oci://${registry.host}/globex/sensor:3.4.0`)).toMatchObject({ status: 422, code: 'policy.namespace' });
    expect(await refuse('3.4.0', `oci://${registry.host}/acme/sensor:latest`)).toMatchObject({ status: 422, code: 'oci.bad-reference' });
    expect(await refuse('3.4.0', `oci://${registry.host}/acme/sensor:3.4.1`)).toMatchObject({ status: 422, code: 'oci.bad-reference' });
    expect(await refuse('3.4.0', `oci://${registry.host}/acme/sensor:3.4.0`)).toMatchObject({ status: 422, code: 'oci.not-found' });
  });
});

describe('certificates from the fleet signing CA with a timestamp from its TSA', () => {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let certco: Caller;
  let identity: string;
  beforeAll(async () => {
    identity = `spiffe://fleet.test/vendor/certco`;
    certco = await addVendor(
      h,
      'certco',
      { vendor: 'certco', identities: [{ subject: literal(identity), issuer: literal(h.cp.url) }], repositories: [`${LOCAL}/certco/.+`] },
      'certco-app',
    );
  });

  async function signed(version: string, o: { subject?: string; issuer?: string; notBefore?: Date; stampAt?: Date | null }) {
    const signing = h.cp.deps.fleetSigning!;
    const component = variant(hello(), `cert-${version}`);
    const cert = await signing.ca.issue({
      publicKey: keys.publicKey,
      subject: o.subject ?? identity,
      issuer: o.issuer ?? h.cp.url,
      ...(o.notBefore ? { notBefore: o.notBefore, validityMs: 10 * 60_000 } : {}),
    });
    const stamp = o.stampAt === null ? undefined : (sig: Buffer) => signing.tsa.timestamp(sig, o.stampAt ?? new Date());
    const bundle = serializeBundle(signComponentWithCertificate(component, keys.privateKey, cert, stamp));
    await push(registry, 'certco/app', version, component, [{ kind: 'message-signature', bytes: bundle }]);
    return register(certco, 'certco-app', version, `oci://${registry.host}/certco/app:${version}`);
  }

  it('admits the matching identity and issuer, also after the certificate expired when the timestamp falls inside its life', async () => {
    const fresh = await signed('1.0.0', {});
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(201);
    expect(fresh.body.verification.signer).toContain(identity);
    const issuedAt = new Date(Date.now() - 3 * 3600_000);
    expect((await signed('1.1.0', { notBefore: issuedAt, stampAt: new Date(issuedAt.getTime() + 60_000) })).status).toBe(201);
  });

  it('refuses another identity, another issuer, and an expired certificate without a timestamp', async () => {
    expect(refusal(await signed('2.0.0', { subject: 'spiffe://fleet.test/vendor/globex' }))).toMatchObject({
      status: 422,
      code: 'signing.identity-mismatch',
      field: 'component.reference',
    });
    expect(refusal(await signed('2.1.0', { issuer: 'https://elsewhere.example' }))).toMatchObject({ status: 422, code: 'signing.identity-mismatch' });
    const expired = refusal(await signed('2.2.0', { notBefore: new Date(Date.now() - 3 * 3600_000), stampAt: null }));
    expect(expired).toMatchObject({ status: 422, code: 'signing.timestamp' });
    expect(await versions('certco-app')).toEqual(['1.0.0', '1.1.0']);
  });
});
