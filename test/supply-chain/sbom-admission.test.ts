import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Digest } from '../../common/digest.js';
import { generateVendorKey, loadPrivateKey } from '../../trust/signing/keys.js';
import { CYCLONEDX_BOM_PREDICATE } from '../../trust/signing/sbom-attestation.js';
import { serializeBundle, signStatement } from '../../trust/signing/sign.js';
import { statementAbout } from '../../trust/signing/statement.js';
import { berth } from '../support/berth-in-process.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { suiteTempDir } from '../support/tmp.js';
import { addVendor, hello, push, refusal, register, signature, variant, type Caller } from './support.js';

// SBOMs travel as vendor-signed in-toto attestations (predicate https://cyclonedx.org/bom),
// attached as OCI referrers by berth push, read by admission, and matched by advisories by purl.
const acmeKey = generateVendorKey();
const acmePrivate = loadPrivateKey(acmeKey.privateKeyPem);
const otherKey = loadPrivateKey(generateVendorKey().privateKeyPem);
const LOCAL = '127\\.0\\.0\\.1:[0-9]+';

let registry: TestRegistry;
let h: Harness;
let acme: Caller;
let strict: Caller;
let dir: string;
beforeAll(async () => {
  registry = await startRegistry();
  h = await startHarness({ registries: { [registry.host]: { plainHttp: true } }, admissionTimeoutMs: 30_000 });
  acme = await addVendor(h, 'acme', { vendor: 'acme', publicKeys: [acmeKey.publicKeyPem], repositories: [`${LOCAL}/acme/.+`] }, 'sensor');
  strict = await addVendor(
    h,
    'strict',
    { vendor: 'strict', publicKeys: [acmeKey.publicKeyPem], repositories: [`${LOCAL}/strict/.+`], require: { sbom: true } },
    'gauge',
  );
  dir = suiteTempDir('sbom-admission');
});
afterAll(async () => {
  await h?.stop();
  await registry?.stop();
});

/** A package-lock.json naming one vulnerable package, as a JavaScript app's build leaves it. */
function lockFile(): string {
  const path = join(dir, 'package-lock.json');
  writeFileSync(
    path,
    JSON.stringify({
      name: 'sensor',
      version: '1.0.0',
      lockfileVersion: 3,
      packages: {
        '': { name: 'sensor', version: '1.0.0', dependencies: { '@acme/parser': '^2.3.0' } },
        'node_modules/@acme/parser': { version: '2.3.0', resolved: 'https://registry.npmjs.org/@acme/parser/-/parser-2.3.0.tgz' },
      },
    }),
  );
  return path;
}

const said = (r: { code: number; out: string; err: string }) => `exit ${r.code}; stdout: ${r.out}; stderr: ${r.err}`;

describe('SBOMs from berth sbom to an advisory by purl', () => {
  it('is made, signed, pushed beside the component, read at admission, and matched by an advisory', async () => {
    const wasm = join(dir, 'sensor.wasm');
    writeFileSync(wasm, variant(hello(), 'sbom-1'));
    const keyFile = join(dir, 'acme.key');
    writeFileSync(keyFile, acmeKey.privateKeyPem);
    const steps = [
      ['sbom', wasm, '--lock', lockFile(), '--name', 'sensor', '--out', join(dir, 'sensor.cdx.json')],
      ['sign', wasm, '--key', keyFile],
      ['attest', wasm, '--key', keyFile, '--sbom', join(dir, 'sensor.cdx.json')],
      ['push', wasm, `oci://${registry.host}/acme/sensor:1.0.0`, '--plain-http'],
    ];
    for (const step of steps) {
      const r = await berth(...step);
      expect(r.code, `${step[0]}: ${said(r)}`).toBe(0);
    }
    const admitted = await register(acme, 'sensor', '1.0.0', `oci://${registry.host}/acme/sensor:1.0.0`);
    expect(admitted.status, JSON.stringify(admitted.body)).toBe(201);
    expect(admitted.body.verification.sbom).toEqual({ components: 1, packages: 1 });
    const advisory = await acme('POST', '/api/v1/advisories', {
      id: 'CVE-2026-60001',
      summary: 'parser overflow',
      severity: 'critical',
      action: 'block',
      affected: [{ purl: 'pkg:npm/%40acme/parser', versions: '<2.3.1' }],
    });
    expect(advisory.status, JSON.stringify(advisory.body)).toBe(201);
    expect(advisory.body.affectedVersions).toEqual([{ app: 'sensor', version: '1.0.0', digest: admitted.body.component.digest }]);
    const deploy = await h.admin('POST', '/api/v1/admin/deployments', { app: 'sensor', version: '1.0.0', grants: { log: {} } });
    expect(refusal(deploy)).toMatchObject({ status: 409, code: 'deployment.version_affected' });
  });

  it('refuses, naming why: no SBOM where the vendor requires one, an SBOM another key signed, one about another component', async () => {
    const bare = variant(hello(), 'sbom-bare');
    await push(registry, 'strict/gauge', '1.0.0', bare, [signature(bare, acmePrivate)]);
    expect(refusal(await register(strict, 'gauge', '1.0.0', `oci://${registry.host}/strict/gauge:1.0.0`))).toMatchObject({
      status: 422,
      code: 'sbom.missing',
      field: 'component.reference',
    });

    const bom = { bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'library', name: 'x', purl: 'pkg:npm/x@1.0.0' }] };
    const forged = variant(hello(), 'sbom-forged');
    const forgedSbom = serializeBundle(signStatement(statementAbout('gauge.wasm', sha256Digest(forged), CYCLONEDX_BOM_PREDICATE, bom), otherKey));
    await push(registry, 'acme/sensor', '2.0.0', forged, [
      signature(forged, acmePrivate),
      { kind: 'dsse-envelope', predicateType: CYCLONEDX_BOM_PREDICATE, bytes: forgedSbom },
    ]);
    const r = refusal(await register(acme, 'sensor', '2.0.0', `oci://${registry.host}/acme/sensor:2.0.0`));
    expect(r).toMatchObject({ status: 422, code: 'sbom.signature' });
    expect(r.detail).toContain("not signed by vendor 'acme'");

    const moved = variant(hello(), 'sbom-moved');
    const aboutOther = serializeBundle(signStatement(statementAbout('x.wasm', sha256Digest(hello()), CYCLONEDX_BOM_PREDICATE, bom), acmePrivate));
    await push(registry, 'acme/sensor', '3.0.0', moved, [
      signature(moved, acmePrivate),
      { kind: 'dsse-envelope', predicateType: CYCLONEDX_BOM_PREDICATE, bytes: aboutOther },
    ]);
    expect(refusal(await register(acme, 'sensor', '3.0.0', `oci://${registry.host}/acme/sensor:3.0.0`))).toMatchObject({
      status: 422,
      code: 'sbom.subject-mismatch',
    });

    const badBom = variant(hello(), 'sbom-bad');
    const garbage = serializeBundle(
      signStatement(
        statementAbout('x.wasm', sha256Digest(badBom), CYCLONEDX_BOM_PREDICATE, {
          bomFormat: 'CycloneDX',
          specVersion: '1.6',
          components: [{ purl: 'not a purl' }],
        }),
        acmePrivate,
      ),
    );
    await push(registry, 'acme/sensor', '4.0.0', badBom, [
      signature(badBom, acmePrivate),
      { kind: 'dsse-envelope', predicateType: CYCLONEDX_BOM_PREDICATE, bytes: garbage },
    ]);
    const bad = refusal(await register(acme, 'sensor', '4.0.0', `oci://${registry.host}/acme/sensor:4.0.0`));
    expect(bad).toMatchObject({ status: 422, code: 'sbom.invalid' });
    expect(bad.detail).toContain('components.0.purl');
    const versions = (await h.admin('GET', '/api/v1/catalog/apps/sensor/versions')).body.versions.map((v: { version: string }) => v.version);
    expect(versions).toEqual(['1.0.0']);

    // berth push checks a signed SBOM is about the component before anything is sent.
    const wasm = join(dir, 'other.wasm');
    writeFileSync(wasm, moved);
    const file = join(dir, 'other.sbom.json');
    writeFileSync(file, aboutOther);
    const pushed = await berth('push', wasm, `oci://${registry.host}/acme/sensor:5.0.0`, '--plain-http', '--unsigned', '--sbom', file);
    expect(pushed.code, said(pushed)).toBe(1);
    expect(pushed.err).toContain('not the component');
  });
});
