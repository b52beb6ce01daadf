import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type Answer } from '../orchestrator/harness.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';
import { harnessWithRoles } from '../deployments/operator-api.js';
import { addDevice } from '../deployments/fixtures.js';
import { getDocument, getManifest } from '../../orchestrator/store/desired-state.js';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}` as const;
const api = harnessWithRoles(['vendor:acme', 'vendor:globex', 'operator']);
const acme = api.as('vendor:acme');
const globex = api.as('vendor:globex');
const operator = api.as('operator');

beforeAll(async () => {
  for (const name of ['acme', 'globex'])
    expect((await api.h.admin('POST', '/api/v1/catalog/vendors', { name, trustPolicy: testTrustPolicy(name) })).status).toBe(201);
  expect((await acme('POST', '/api/v1/catalog/apps', { id: 'meter' })).status).toBe(201);
  expect((await globex('POST', '/api/v1/catalog/apps', { id: 'pump' })).status).toBe(201);
  const roots = api.h.cp.deps.artifacts!.roots.fingerprint;
  for (const [appId, version, n] of [
    ['meter', '1.0.0', 1],
    ['meter', '1.1.0', 2],
    ['pump', '1.0.0', 3],
  ] as const)
    await insertVerifiedVersion(api.h.cp.deps.store, { appId, version, digest: digest(n), rootsFingerprint: roots });
  await addDevice(api.h.cp.deps.store, 'vex-dev');
  const filed = await api.h.admin('POST', '/api/v1/advisories', {
    id: 'CVE-2026-50001',
    summary: 'a library flaw',
    severity: 'high',
    action: 'stop',
    affected: [
      { app: 'meter', versions: '*' },
      { app: 'pump', versions: '*' },
    ],
  });
  expect(filed.status, JSON.stringify(filed.body)).toBe(201);
});

function expectProblem(a: Answer, status: number, code: string): void {
  expect(a.status, JSON.stringify(a.body)).toBe(status);
  expect(a.body.code).toBe(code);
}
const affectedNow = async () =>
  (await operator('GET', '/api/v1/advisories/CVE-2026-50001')).body.affectedVersions.map((v: { app: string; version: string }) => `${v.app}@${v.version}`);
const statements = async (who = operator) => (await who('GET', '/api/v1/advisories/CVE-2026-50001/vex?format=berth')).body.statements;

describe('VEX', () => {
  it('not_affected exempts a version: it can be deployed again, and its devices stop refusing its digest', async () => {
    expect(await affectedNow()).toEqual(['meter@1.0.0', 'meter@1.1.0', 'pump@1.0.0']);
    expectProblem(
      await operator('POST', '/api/v1/admin/deployments', { id: 'meter-vex', app: 'meter', version: '1.1.0', grants: {}, deviceIds: ['vex-dev'] }),
      409,
      'deployment.version_affected',
    );
    const put = await acme('PUT', '/api/v1/advisories/CVE-2026-50001/vex', {
      statements: [
        { app: 'meter', version: '1.1.0', status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', detail: 'the parser is never called' },
        { app: 'meter', version: '1.0.0', status: 'affected' },
      ],
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(api.h.events('vex.stated').map((e) => `${e.app}@${e.version}:${e.status}`)).toEqual(['meter@1.1.0:not_affected', 'meter@1.0.0:affected']);
    expect(await affectedNow()).toEqual(['meter@1.0.0', 'pump@1.0.0']);
    const deployed = await operator('POST', '/api/v1/admin/deployments', {
      id: 'meter-vex',
      app: 'meter',
      version: '1.1.0',
      grants: {},
      deviceIds: ['vex-dev'],
    });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    const manifest = JSON.parse((await getManifest(api.h.cp.deps.store, 'vex-dev'))!.bytes.toString('utf8'));
    const doc = parseYaml((await getDocument(api.h.cp.deps.store, 'vex-dev', manifest.deployments[0].digest))!.bytes.toString('utf8'));
    expect(doc.spec.deploymentProfile['x-berth-extensions'].refusedDigests).toEqual([{ digest: digest(1), advisories: ['CVE-2026-50001'] }]);
    // A later statement replaces the earlier one: 1.1.0 affected after all is blocked again.
    expect(
      (await acme('PUT', '/api/v1/advisories/CVE-2026-50001/vex', { statements: [{ app: 'meter', version: '1.1.0', status: 'under_investigation' }] })).status,
    ).toBe(200);
    expect(await affectedNow()).toEqual(['meter@1.0.0', 'meter@1.1.0', 'pump@1.0.0']);
    const manifest2 = JSON.parse((await getManifest(api.h.cp.deps.store, 'vex-dev'))!.bytes.toString('utf8'));
    const doc2 = parseYaml((await getDocument(api.h.cp.deps.store, 'vex-dev', manifest2.deployments[0].digest))!.bytes.toString('utf8'));
    expect(doc2.spec.deploymentProfile['x-berth-extensions'].refusedDigests.map((r: { digest: string }) => r.digest)).toEqual([digest(1), digest(2)]);
  });

  it('exports OpenVEX and CycloneDX VEX that import back to the same statements, each vendor seeing its own', async () => {
    await acme('PUT', '/api/v1/advisories/CVE-2026-50001/vex', {
      statements: [{ app: 'meter', version: '1.1.0', status: 'not_affected', justification: 'code_not_reachable' }],
    });
    expect((await globex('PUT', '/api/v1/advisories/CVE-2026-50001/vex', { statements: [{ app: 'pump', version: '1.0.0', status: 'fixed' }] })).status).toBe(
      200,
    );
    const openvex = await operator('GET', '/api/v1/advisories/CVE-2026-50001/vex');
    expect(openvex.headers['content-type']).toContain('application/json');
    expect(openvex.body['@context']).toBe('https://openvex.dev/ns/v0.2.0');
    const meter = openvex.body.statements.find((s: { products: { '@id': string }[] }) =>
      s.products[0]!['@id'].startsWith('pkg:oci/meter@sha256:' + '0'.repeat(63) + '2'),
    );
    // A CycloneDX justification is written in OpenVEX's vocabulary.
    expect(meter).toMatchObject({ vulnerability: { name: 'CVE-2026-50001' }, status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' });
    const cdx = await operator('GET', '/api/v1/advisories/CVE-2026-50001/vex?format=cyclonedx');
    expect(cdx.headers['content-type']).toContain('application/vnd.cyclonedx+json');
    expect(cdx.body.vulnerabilities.find((v: { analysis: { state: string } }) => v.analysis.state === 'not_affected')).toMatchObject({
      id: 'CVE-2026-50001',
      analysis: { justification: 'code_not_reachable' },
    });
    expect(cdx.body.vulnerabilities.find((v: { analysis: { state: string } }) => v.analysis.state === 'resolved')).toBeDefined();
    // Each vendor sees its own statements only.
    expect((await statements(acme)).map((s: { app: string }) => s.app)).toEqual(['meter', 'meter']);
    expect((await statements(globex)).map((s: { app: string }) => s.app)).toEqual(['pump']);

    const before = await statements();
    // Re-importing either export (as an admin: it speaks for both vendors) changes nothing; a vendor cannot import the other's part.
    expect((await api.h.admin('POST', '/api/v1/vex', openvex.body)).status).toBe(200);
    expect((await api.h.admin('POST', '/api/v1/vex', cdx.body)).status).toBe(200);
    const strip = (l: { app: string; version: string; status: string }[]) => l.map((s) => `${s.app}@${s.version}:${s.status}`);
    expect(strip(await statements())).toEqual(strip(before));
    expectProblem(await acme('POST', '/api/v1/vex', openvex.body), 403, 'catalog.other_vendor');
  });

  it('imports CycloneDX refs given as a component bom-ref or a BOM-Link', async () => {
    const doc = {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      components: [{ 'bom-ref': 'meter-100', purl: `pkg:oci/meter@${digest(1)}` }],
      vulnerabilities: [
        { id: 'CVE-2026-50001', analysis: { state: 'false_positive', justification: 'protected_at_runtime' }, affects: [{ ref: 'meter-100' }] },
        {
          id: 'CVE-2026-50001',
          analysis: { state: 'in_triage' },
          affects: [{ ref: `urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#${encodeURIComponent(`pkg:oci/meter@${digest(2)}?tag=1.1.0`)}` }],
        },
      ],
    };
    const imported = await acme('POST', '/api/v1/vex', doc);
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body.statements).toEqual([
      { advisoryId: 'CVE-2026-50001', app: 'meter', version: '1.0.0', status: 'not_affected', justification: 'protected_at_runtime' },
      { advisoryId: 'CVE-2026-50001', app: 'meter', version: '1.1.0', status: 'under_investigation' },
    ]);
  });

  it('refuses bad statements and documents with a 4xx naming where, and applies none of a document that has one', async () => {
    const put = (who: typeof acme, body: unknown, id = 'CVE-2026-50001') => who('PUT', `/api/v1/advisories/${id}/vex`, body);
    const bad = (await put(acme, { statements: [{ app: 'meter', version: '1.0.0', status: 'not_affected' }] })).body;
    expect(bad.errors).toEqual([{ field: 'statements.0.justification', message: expect.stringContaining('justification') }]);
    expect((await put(acme, { statements: [{ app: 'meter', version: '1.0.0', status: 'affected', justification: 'code_not_present' }] })).status).toBe(422);
    expect((await put(acme, { statements: [{ app: 'meter', version: '1.0.0', status: 'not_affected', justification: 'because' }] })).status).toBe(422);
    expectProblem(await put(acme, { statements: [{ app: 'meter', version: '9.9.9', status: 'affected' }] }), 422, 'vex.unknown_version');
    expectProblem(await put(acme, { statements: [{ app: 'pump', version: '1.0.0', status: 'affected' }] }), 403, 'catalog.other_vendor');
    expectProblem(await put(acme, { statements: [{ app: 'meter', version: '1.0.0', status: 'affected' }] }, 'CVE-2026-59999'), 404, 'advisory.unknown');
    expectProblem(
      await operator('PUT', '/api/v1/advisories/CVE-2026-50001/vex', { statements: [{ app: 'meter', version: '1.0.0', status: 'affected' }] }),
      403,
      'auth.forbidden',
    );
    expectProblem(await operator('GET', '/api/v1/advisories/CVE-2026-50001/vex?format=spdx'), 400, 'request.bad_parameter');

    const before = await statements();
    const openvex = (products: string[], vulnerability = 'CVE-2026-50001') => ({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      statements: [{ vulnerability: { name: vulnerability }, products, status: 'fixed' }],
    });
    const cases: [unknown, string, string][] = [
      [{ hello: 'world' }, 'vex.invalid', 'body'],
      [{ '@context': 'https://openvex.dev/ns/v0.2.0', statements: [] }, 'vex.invalid', 'statements'],
      [openvex(['not a purl']), 'vex.bad_product', 'statements.0.products.0'],
      [openvex(['pkg:npm/lodash@4.17.21']), 'vex.bad_product', 'statements.0.products.0'],
      [openvex([`pkg:oci/meter@1.0.0`]), 'vex.bad_product', 'statements.0.products.0'],
      [openvex([`pkg:oci/meter@${digest(1)}`, `pkg:oci/meter@${digest(99)}`]), 'vex.unknown_product', 'statements.0.products.1'],
      [openvex([`pkg:oci/meter@${digest(1)}`], 'CVE-2026-59999'), 'vex.unknown_advisory', 'statements.0.products.0'],
      [
        { bomFormat: 'CycloneDX', specVersion: '1.6', vulnerabilities: [{ id: 'CVE-2026-50001', analysis: { state: 'sideways' }, affects: [{ ref: 'x' }] }] },
        'vex.invalid',
        'vulnerabilities.0.analysis.state',
      ],
    ];
    // More statements than one document may hold: refused before the catalog is asked about any.
    const many = Array.from({ length: 11 }, () => ({
      vulnerability: { name: 'CVE-2026-50001' },
      products: Array.from({ length: 1000 }, () => `pkg:oci/meter@${digest(1)}`),
      status: 'fixed',
    }));
    cases.push([{ '@context': 'https://openvex.dev/ns/v0.2.0', statements: many }, 'vex.too_large', 'body']);
    for (const [doc, code, field] of cases) {
      const a = await acme('POST', '/api/v1/vex', doc);
      expect(a.status, JSON.stringify(a.body)).toBe(422);
      expect(a.body.code, JSON.stringify(a.body)).toBe(code);
      expect(a.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect(await statements()).toEqual(before);
  });
});
