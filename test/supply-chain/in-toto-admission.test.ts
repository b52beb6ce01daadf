import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, type KeyObject } from 'node:crypto';
import { sha256Digest, type Digest } from '../../common/digest.js';
import type { AttachedBundle } from '../../oci/artifact.js';
import { IN_TOTO_LINK_V03, linkStatement, type LinkInput } from '../../trust/in-toto/link.js';
import { generateVendorKey, loadPrivateKey, type VendorKeyPair } from '../../trust/signing/keys.js';
import { provenanceStatement, SLSA_PROVENANCE_V1 } from '../../trust/signing/provenance.js';
import { serializeBundle, signStatement } from '../../trust/signing/sign.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth } from '../support/berth-in-process.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { addVendor, clientOptions, hello, push, refusal, register, signature, variant, type Caller } from './support.js';

// Admission against a vendor's in-toto layout, with Debian's docker-registry and real keys:
// acme's build step is its SLSA provenance (signed by the vendor key), its test step a link
// signed by the tester's key. A version whose attestations skip a step, were signed by someone
// outside the layout, break an artifact rule or are malformed is refused with an in_toto.* code.
const LOCAL = '127\\.0\\.0\\.1:[0-9]+';
const vendor = generateVendorKey();
const tester = generateVendorKey();
const builder = generateVendorKey();
const stranger = generateVendorKey();
const priv = (k: VendorKeyPair): KeyObject => loadPrivateKey(k.privateKeyPem);
const FUTURE = new Date(Date.now() + 365 * 86_400_000).toISOString();

const testStep = {
  name: 'test',
  pubkeys: [tester.keyId],
  expectedMaterials: ['MATCH sensor.wasm WITH PRODUCTS FROM build', 'DISALLOW *'],
  expectedProducts: ['CREATE report.json', 'DISALLOW *'],
};
const layout = (overrides: Record<string, unknown> = {}) => ({
  expires: FUTURE,
  keys: { [tester.keyId]: tester.publicKeyPem, [builder.keyId]: builder.publicKeyPem },
  steps: [{ name: 'build', pubkeys: [vendor.keyId], provenance: true, expectedProducts: ['CREATE sensor.wasm', 'DISALLOW *'] }, testStep],
  ...overrides,
});
const policy = (name: string, l: unknown) => ({ vendor: name, publicKeys: [vendor.publicKeyPem], repositories: [`${LOCAL}/${name}/.+`], layout: l });

const dsse = (statement: unknown, key: KeyObject, predicateType: string): AttachedBundle => ({
  kind: 'dsse-envelope',
  predicateType,
  bytes: serializeBundle(signStatement(statement, key)),
});
const link = (input: LinkInput, key: KeyObject) => dsse(linkStatement(input), key, IN_TOTO_LINK_V03);
const provenance = (digest: Digest) =>
  dsse(provenanceStatement({ name: 'sensor.wasm', digest, builderId: 'https://ci.acme.example/b' }), priv(vendor), SLSA_PROVENANCE_V1);
const tested = (digest: Digest, key = priv(tester)) =>
  link({ step: 'test', materials: [{ name: 'sensor.wasm', digest }], products: [{ name: 'report.json', digest: sha256Digest(Buffer.from('ok')) }] }, key);

let registry: TestRegistry;
let h: Harness;
let acme: Caller;
beforeAll(async () => {
  registry = await startRegistry();
  h = await startHarness({ registries: { [registry.host]: clientOptions(registry) }, admissionTimeoutMs: 30_000 });
  acme = await addVendor(h, 'acme', policy('acme', layout()), 'sensor');
});
afterAll(async () => {
  await h?.stop();
  await registry?.stop();
});

/** Pushes a variant of the component with its signature and `attestations(digest)`, and registers it. */
async function admit(as: Caller, vendorName: string, app: string, version: string, attestations: (digest: Digest) => AttachedBundle[]) {
  const component = variant(hello(), `${vendorName}-${version}`);
  await push(registry, `${vendorName}/${app}`, version, component, [signature(component, priv(vendor)), ...attestations(sha256Digest(component))]);
  const answer = await register(as, app, version, `oci://${registry.host}/${vendorName}/${app}:${version}`);
  const versions = (await h.admin('GET', `/api/v1/catalog/apps/${app}/versions`)).body.versions as Array<{ version: string }>;
  return { answer, stored: versions.some((v) => v.version === version) };
}

describe('a version against its vendor in-toto layout', () => {
  it('is admitted with every step: the provenance as build, a tester-signed link as test', async () => {
    const { answer, stored } = await admit(acme, 'acme', 'sensor', '1.0.0', (d) => [provenance(d), tested(d)]);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(stored).toBe(true);
  });

  const refused = async (version: string, attestations: (digest: Digest) => AttachedBundle[]) => {
    const { answer, stored } = await admit(acme, 'acme', 'sensor', version, attestations);
    expect(stored).toBe(false);
    return refusal(answer);
  };

  it('is refused when a step was skipped (no test link)', async () => {
    const r = await refused('1.1.0', (d) => [provenance(d)]);
    expect(r).toMatchObject({ status: 422, code: 'in_toto.step_missing', field: 'component.reference' });
    expect(r.detail).toMatch(/step 'test'/);
  });

  it('is refused when a link was signed by a key outside the layout, or by a functionary of another step', async () => {
    expect(await refused('1.2.0', (d) => [provenance(d), tested(d, priv(stranger))])).toMatchObject({ status: 422, code: 'in_toto.unknown_functionary' });
    const r = await refused('1.2.1', (d) => [provenance(d), tested(d, priv(builder))]);
    expect(r).toMatchObject({ status: 422, code: 'in_toto.unknown_functionary' });
    expect(r.detail).toMatch(/not a functionary of that step/);
  });

  it('is refused when the tested component is not what the build produced (MATCH fails, DISALLOW * catches it)', async () => {
    const r = await refused('1.3.0', (d) => [provenance(d), tested(sha256Digest(randomBytes(16)))]);
    expect(r).toMatchObject({ status: 422, code: 'in_toto.rule_violated' });
    expect(r.detail).toMatch(/step 'test' materials: DISALLOW/);
  });

  it('is refused when a link is malformed: not a bundle, a bad signature, or not a link statement', async () => {
    const garbage: AttachedBundle = { kind: 'dsse-envelope', predicateType: IN_TOTO_LINK_V03, bytes: randomBytes(64) };
    expect(await refused('1.4.0', (d) => [provenance(d), tested(d), garbage])).toMatchObject({ status: 422, code: 'in_toto.bad_link' });

    const forged = (d: Digest): AttachedBundle => {
      const json = JSON.parse(Buffer.from(tested(d).bytes).toString('utf8'));
      json.dsseEnvelope.signatures[0].sig = Buffer.from(randomBytes(70)).toString('base64');
      return { kind: 'dsse-envelope', predicateType: IN_TOTO_LINK_V03, bytes: Buffer.from(JSON.stringify(json)) };
    };
    const bad = await refused('1.4.1', (d) => [provenance(d), forged(d)]);
    expect(bad).toMatchObject({ status: 422, code: 'in_toto.bad_link' });
    expect(bad.detail).toMatch(/does not verify/);

    const notALink = { _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: IN_TOTO_LINK_V03, predicate: { materials: 'all of them' } };
    expect(await refused('1.4.2', (d) => [provenance(d), dsse(notALink, priv(tester), IN_TOTO_LINK_V03)])).toMatchObject({
      status: 422,
      code: 'in_toto.bad_link',
    });
  });
});

/** `berth attest link` for the layout's test step, by the tester, from the component's digest to `product`. */
const linkTestStep = (dir: string, digest: string, product: string, reference: string) =>
  berth(
    'attest',
    'link',
    '--step',
    'test',
    '--key',
    join(dir, 'tester.key'),
    '--material',
    `sensor.wasm=${digest}`,
    '--product',
    product,
    '--plain-http',
    reference,
  );

describe('berth attest link', () => {
  it("signs a step's link with the functionary key and attaches it to the pushed component; admission then accepts the version", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-link-'));
    try {
      await writeFile(join(dir, 'tester.key'), tester.privateKeyPem);
      await writeFile(join(dir, 'report.json'), 'ok');
      const component = variant(hello(), 'cli-link');
      const digest = sha256Digest(component);
      await push(registry, 'acme/sensor', '2.0.0', component, [signature(component, priv(vendor)), provenance(digest)]);
      const reference = `oci://${registry.host}/acme/sensor:2.0.0`;
      const linked = await linkTestStep(dir, digest, join(dir, 'report.json'), reference);
      expect(linked.code, linked.err).toBe(0);
      expect(linked.out).toMatch(/linked step 'test'/);
      // The product is named by its path as given; the layout's test step only CREATEs report.json.
      expect(refusal(await register(acme, 'sensor', '2.0.0', reference))).toMatchObject({ status: 422, code: 'in_toto.rule_violated' });
      const again = await linkTestStep(dir, digest, `report.json=${sha256Digest(Buffer.from('ok'))}`, reference);
      expect(again.code, again.err).toBe(0);
      expect(refusal(await register(acme, 'sensor', '2.0.0', reference))).toMatchObject({ status: 422, code: 'in_toto.threshold' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('attaches to a digest-pinned component, and the version is admitted', async () => {
    const component = variant(hello(), 'cli-pinned');
    const digest = sha256Digest(component);
    const pushed = await push(registry, 'acme/sensor', '2.1.0', component, [signature(component, priv(vendor)), provenance(digest)]);
    const dir = await mkdtemp(join(tmpdir(), 'berth-link-'));
    try {
      await writeFile(join(dir, 'tester.key'), tester.privateKeyPem);
      const pinned = `oci://${registry.host}/acme/sensor@${pushed.manifestDigest}`;
      const linked = await linkTestStep(dir, digest, `report.json=${sha256Digest(Buffer.from('ok'))}`, pinned);
      expect(linked.code, linked.err).toBe(0);
      const admitted = await register(acme, 'sensor', '2.1.0', `oci://${registry.host}/acme/sensor:2.1.0`);
      expect(admitted.status, JSON.stringify(admitted.body)).toBe(201);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('layouts of other shapes', () => {
  it('refuses a chain that does not end in the component: the build link produced another digest', async () => {
    const l = layout({
      steps: [{ name: 'build', pubkeys: [builder.keyId], expectedProducts: ['CREATE sensor.wasm', 'DISALLOW *'] }, testStep],
    });
    const globex = await addVendor(h, 'globex', policy('globex', l), 'globex-app');
    const other = sha256Digest(randomBytes(16));
    const built = link({ step: 'build', materials: [], products: [{ name: 'sensor.wasm', digest: other }] }, priv(builder));
    const { answer, stored } = await admit(globex, 'globex', 'globex-app', '1.0.0', () => [built, tested(other)]);
    expect(stored).toBe(false);
    expect(refusal(answer)).toMatchObject({ status: 422, code: 'in_toto.rule_violated' });
    expect(answer.body.detail).toMatch(/no step .* has the component/);
  });

  it('refuses a version under a layout that has expired, and a step below its threshold', async () => {
    const expired = await addVendor(h, 'initech', policy('initech', layout({ expires: '2020-01-01T00:00:00Z' })), 'initech-app');
    const a = await admit(expired, 'initech', 'initech-app', '1.0.0', (d) => [provenance(d), tested(d)]);
    expect(refusal(a.answer)).toMatchObject({ status: 422, code: 'in_toto.layout_expired' });

    const two = layout({ steps: [layout().steps[0], { ...testStep, pubkeys: [tester.keyId, builder.keyId], threshold: 2 }] });
    const strict = await addVendor(h, 'umbrella', policy('umbrella', two), 'umbrella-app');
    const b = await admit(strict, 'umbrella', 'umbrella-app', '1.0.0', (d) => [provenance(d), tested(d)]);
    expect(refusal(b.answer)).toMatchObject({ status: 422, code: 'in_toto.threshold' });
    const c = await admit(strict, 'umbrella', 'umbrella-app', '1.0.1', (d) => [provenance(d), tested(d), tested(d, priv(builder))]);
    expect(c.answer.status, JSON.stringify(c.answer.body)).toBe(201);
  });

  it.each([
    ['an unknown rule', { steps: [{ ...testStep, expectedMaterials: ['COPY *'] }] }, /layout\.steps\.0\.expectedMaterials\.0.*not a supported rule/],
    ['a MATCH from a step it does not have', { steps: [testStep] }, /layout\.steps\.0\.expectedMaterials\.0.*does not have/],
    ['a functionary key it does not know', { steps: [layout().steps[0], { ...testStep, pubkeys: [stranger.keyId] }] }, /layout\.steps\.1\.pubkeys/],
    ['a threshold above its functionaries', { steps: [layout().steps[0], { ...testStep, threshold: 2 }] }, /layout\.steps\.1\.threshold/],
    ['no expiry', { expires: undefined }, /layout\.expires/],
  ])('refuses a policy whose layout has %s, naming the field (422)', async (_, overrides, why) => {
    const answer = await h.admin('POST', '/api/v1/catalog/vendors', { name: 'hooli', trustPolicy: policy('hooli', layout(overrides)) });
    expect(refusal(answer)).toMatchObject({ status: 422, code: 'catalog.bad_trust_policy', field: 'trustPolicy' });
    expect(answer.body.errors[0].message).toMatch(why);
  });
});
