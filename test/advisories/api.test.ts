import { beforeAll, describe, expect, it } from 'vitest';
import { type Answer } from '../orchestrator/harness.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';
import { harnessWithRoles } from '../deployments/operator-api.js';
import { addDevice } from '../deployments/fixtures.js';
import { getDocument, getManifest } from '../../orchestrator/store/desired-state.js';
import { parse as parseYaml } from 'yaml';
import { insertVersionPackages } from '../../orchestrator/store/catalog.js';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}` as const;
const api = harnessWithRoles(['vendor:acme', 'vendor:globex', 'operator']);
const acme = api.as('vendor:acme');
const globex = api.as('vendor:globex');
const operator = api.as('operator');
const admin = (m: string, p: string, b?: unknown) => api.h.admin(m, p, b);

beforeAll(async () => {
  for (const name of ['acme', 'globex'])
    expect((await admin('POST', '/api/v1/catalog/vendors', { name, trustPolicy: testTrustPolicy(name) })).status).toBe(201);
  expect((await acme('POST', '/api/v1/catalog/apps', { id: 'meter' })).status).toBe(201);
  expect((await acme('POST', '/api/v1/catalog/apps', { id: 'valve' })).status).toBe(201);
  expect((await globex('POST', '/api/v1/catalog/apps', { id: 'pump' })).status).toBe(201);
  const roots = api.h.cp.deps.artifacts!.roots.fingerprint;
  const versions: [string, string, number][] = [
    ['meter', '1.0.0', 1],
    ['meter', '1.1.0', 2],
    ['meter', '1.2.0', 3],
    ['meter', '2.0.0-rc.1', 4],
    ['valve', '1.0.0', 5],
    ['valve', '1.1.0', 6],
    ['pump', '1.0.0', 7],
    ['pump', '1.1.0', 8],
  ];
  for (const [appId, version, n] of versions) await insertVerifiedVersion(api.h.cp.deps.store, { appId, version, digest: digest(n), rootsFingerprint: roots });
});

function expectProblem(a: Answer, status: number, code: string): void {
  expect(a.status, JSON.stringify(a.body)).toBe(status);
  expect(a.headers['content-type']).toContain('application/problem+json');
  expect(a.body.code).toBe(code);
}

const advisory = (o: Record<string, unknown>) => ({ summary: 'a flaw', severity: 'high', action: 'warn', ...o });
const deploy = (id: string, app: string, version: string) => operator('POST', '/api/v1/admin/deployments', { id, app, version, grants: {} });
const deployment = async (id: string) => (await operator('GET', `/api/v1/admin/deployments/${id}`)).body;

describe('POST /api/v1/advisories', () => {
  it('files a warning matched by app and range, lists and shows it, and logs it', async () => {
    const created = await acme(
      'POST',
      '/api/v1/advisories',
      advisory({ id: 'CVE-2026-10001', cvss: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', affected: [{ app: 'meter', versions: '<1.2.0' }] }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ id: 'CVE-2026-10001', vendor: 'acme', action: 'warn', moved: [] });
    expect(created.body.affectedVersions.map((v: { version: string }) => v.version)).toEqual(['1.0.0', '1.1.0']);
    // A pre-release is matched by a range that includes it.
    const pre = await acme('POST', '/api/v1/advisories', advisory({ id: 'acme:ADV-1', affected: [{ app: 'meter', versions: '>=2.0.0-0' }] }));
    expect(pre.body.affectedVersions).toEqual([{ app: 'meter', version: '2.0.0-rc.1', digest: digest(4) }]);
    expect((await operator('GET', '/api/v1/advisories/CVE-2026-10001')).body).toMatchObject({ id: 'CVE-2026-10001', severity: 'high' });
    expect((await operator('GET', '/api/v1/advisories')).body.advisories.map((a: { id: string }) => a.id)).toEqual(
      expect.arrayContaining(['CVE-2026-10001', 'acme:ADV-1']),
    );
    expect(api.h.events('advisory.created').find((e) => e.advisory === 'CVE-2026-10001')).toMatchObject({
      action: 'warn',
      vendor: 'acme',
      affectedVersions: ['meter@1.0.0', 'meter@1.1.0'],
    });
    // A warning does not keep anyone from deploying.
    expect((await deploy('warned', 'meter', '1.0.0')).status).toBe(201);
    expect((await operator('DELETE', '/api/v1/admin/deployments/warned')).status).toBe(200);
  });

  it('block: no new deployment, rollout or rollback to an affected version (409 naming the advisory)', async () => {
    expect((await deploy('valve-a', 'valve', '1.0.0')).status).toBe(201);
    expect((await operator('POST', '/api/v1/admin/deployments/valve-a/rollouts', { version: '1.1.0' })).status).toBe(202);
    const filed = await admin('POST', '/api/v1/advisories', advisory({ id: 'GHSA-2f3m-4q5r-6w7x', action: 'block', affected: [{ digests: [digest(5)] }] }));
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body.vendor).toBeNull();
    const denied = await deploy('valve-b', 'valve', '1.0.0');
    expectProblem(denied, 409, 'deployment.version_affected');
    expect(denied.body.detail).toContain('GHSA-2f3m-4q5r-6w7x (block)');
    expect(denied.body.errors).toEqual([{ field: 'version', message: expect.stringContaining('GHSA-2f3m-4q5r-6w7x') }]);
    // 1.0.0 is the rollback target of valve-a: the rollback is refused and nothing changes.
    const back = await operator('POST', '/api/v1/admin/deployments/valve-a/rollbacks', {});
    expectProblem(back, 409, 'deployment.version_affected');
    expect(await deployment('valve-a')).toMatchObject({ version: '1.1.0', rollout: { previousVersion: '1.0.0' } });
    expect((await deploy('valve-c', 'valve', '1.1.0')).status).toBe(201);
    expectProblem(await operator('POST', '/api/v1/admin/deployments/valve-c/rollouts', { version: '1.0.0' }), 409, 'deployment.version_affected');
  });

  it('rollback: each affected deployment moves to the newest unaffected version its grants cover, in the same transaction', async () => {
    expect((await deploy('pump-a', 'pump', '1.1.0')).status).toBe(201);
    const filed = await globex(
      'POST',
      '/api/v1/advisories',
      advisory({ id: 'CVE-2026-10002', action: 'rollback', affected: [{ app: 'pump', versions: '1.1.0' }] }),
    );
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body.moved).toEqual([{ deploymentId: 'pump-a', appId: 'pump', from: ['1.1.0'], to: '1.0.0', devices: [] }]);
    expect(await deployment('pump-a')).toMatchObject({ version: '1.0.0', rollout: { state: 'rolled-back', previousVersion: null } });
    expect(api.h.events('advisory.rolled_back').find((e) => e.advisory === 'CVE-2026-10002')).toMatchObject({ deployment: 'pump-a', to: '1.0.0' });
    // Rolling forward to the affected version is blocked from now on.
    expectProblem(await operator('POST', '/api/v1/admin/deployments/pump-a/rollouts', { version: '1.1.0' }), 409, 'deployment.version_affected');
  });

  it('rollback with nowhere to go, and stop, leave the deployment where it is and tell its devices to stop it', async () => {
    const filed = await globex(
      'POST',
      '/api/v1/advisories',
      advisory({ id: 'CVE-2026-10003', action: 'rollback', affected: [{ app: 'pump', versions: '>=1.0.0 <1.1.0' }] }),
    );
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    // 1.1.0 is affected by CVE-2026-10002, 1.0.0 by this one: nowhere to go.
    expect(filed.body.moved).toEqual([]);
    expect(filed.body.stopped).toEqual([{ deploymentId: 'pump-a', appId: 'pump', versions: ['1.0.0'], devices: [] }]);
    expect(await deployment('pump-a')).toMatchObject({ version: '1.0.0' });
    expect(api.h.events('advisory.stopped').find((e) => e.advisory === 'CVE-2026-10003')).toMatchObject({ deployment: 'pump-a', versions: ['1.0.0'] });
    const stop = await acme('POST', '/api/v1/advisories', advisory({ id: 'acme:STOP-1', action: 'stop', affected: [{ app: 'valve', versions: '1.1.0' }] }));
    expect(stop.status, JSON.stringify(stop.body)).toBe(201);
    expect(stop.body.stopped.map((d: { deploymentId: string }) => d.deploymentId)).toEqual(['valve-a', 'valve-c']);
    expect(stop.body.moved).toEqual([]);
  });

  it("puts the affected digests into the affected app's signed documents on every device, moved or not", async () => {
    const store = api.h.cp.deps.store;
    await addDevice(store, 'plant-1');
    await addDevice(store, 'plant-2');
    expect((await acme('POST', '/api/v1/catalog/apps', { id: 'gauge' })).status).toBe(201);
    for (const [version, n] of [
      ['1.0.0', 9],
      ['1.1.0', 10],
    ] as const)
      await insertVerifiedVersion(store, { appId: 'gauge', version, digest: digest(n), rootsFingerprint: api.h.cp.deps.artifacts!.roots.fingerprint });
    const placedOn = async (id: string, version: string, device: string) => {
      const d = await operator('POST', '/api/v1/admin/deployments', { id, app: 'gauge', version, grants: {}, deviceIds: [device] });
      expect(d.body.placed, JSON.stringify(d.body)).toEqual([device]);
    };
    await placedOn('gauge-new', '1.1.0', 'plant-1');
    await placedOn('gauge-old', '1.0.0', 'plant-2');
    const before = (await getManifest(store, 'plant-2'))!.manifestVersion;
    const filed = await acme(
      'POST',
      '/api/v1/advisories',
      advisory({ id: 'acme:GAUGE-1', action: 'rollback', affected: [{ app: 'gauge', versions: '1.1.0' }] }),
    );
    expect(filed.body.moved).toEqual([{ deploymentId: 'gauge-new', appId: 'gauge', from: ['1.1.0'], to: '1.0.0', devices: ['plant-1'] }]);
    // plant-2 ran an unaffected version all along: it gets a new manifest all the same, naming the refused digest.
    expect((await getManifest(store, 'plant-2'))!.manifestVersion).toBeGreaterThan(before);
    for (const device of ['plant-1', 'plant-2']) {
      const manifest = JSON.parse((await getManifest(store, device))!.bytes.toString('utf8'));
      const [entry] = manifest.deployments;
      const doc = parseYaml((await getDocument(store, device, entry.digest))!.bytes.toString('utf8'));
      const profile = doc.spec.deploymentProfile;
      expect(profile.components[0].properties['x-berth-extensions'].digest).toBe(digest(9));
      expect(profile['x-berth-extensions'].refusedDigests).toEqual([{ digest: digest(10), advisories: ['acme:GAUGE-1'] }]);
    }
  });

  it('matches a purl and range against the packages of the versions SBOMs, normalised as the SBOM reader stores them', async () => {
    const store = api.h.cp.deps.store;
    await insertVersionPackages(store, 'meter', '1.1.0', [{ package: 'pkg:npm/%40acme/parser', version: '2.3.0' }]);
    await insertVersionPackages(store, 'meter', '1.2.0', [{ package: 'pkg:npm/%40acme/parser', version: '2.4.1' }]);
    await insertVersionPackages(store, 'valve', '1.0.0', [{ package: 'pkg:cargo/serde', version: 'v1.0.0' }]);
    const filed = await acme('POST', '/api/v1/advisories', advisory({ id: 'acme:PARSER-1', affected: [{ purl: 'pkg:npm/@acme/parser', versions: '<2.4.0' }] }));
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body.affected).toEqual([{ purl: 'pkg:npm/%40acme/parser', versions: '<2.4.0' }]);
    expect(filed.body.affectedVersions).toEqual([{ app: 'meter', version: '1.1.0', digest: digest(2) }]);
    // A leading v is read as SemVer; a vendor's purl advisory keeps to its own apps.
    const serde = await globex('POST', '/api/v1/advisories', advisory({ id: 'globex:SERDE-1', affected: [{ purl: 'pkg:cargo/serde', versions: '1.0.0' }] }));
    expect(serde.body.affectedVersions).toEqual([]);
    const serdeAdmin = await admin(
      'POST',
      '/api/v1/advisories',
      advisory({ id: 'CVE-2026-10010', action: 'block', affected: [{ purl: 'pkg:cargo/serde', versions: '1.0.0' }] }),
    );
    expect(serdeAdmin.body.affectedVersions).toEqual([{ app: 'valve', version: '1.0.0', digest: digest(5) }]);
  });

  it("keeps vendors to their own apps: filing on another's app, digest or id is 403; reading another's is 404", async () => {
    expectProblem(
      await acme('POST', '/api/v1/advisories', advisory({ id: 'CVE-2026-10004', affected: [{ app: 'pump', versions: '*' }] })),
      403,
      'catalog.other_vendor',
    );
    expectProblem(
      await acme('POST', '/api/v1/advisories', advisory({ id: 'CVE-2026-10004', affected: [{ digests: [digest(7)] }] })),
      403,
      'catalog.other_vendor',
    );
    expectProblem(
      await acme('POST', '/api/v1/advisories', advisory({ id: 'globex:ADV-1', affected: [{ app: 'meter', versions: '*' }] })),
      403,
      'advisory.other_vendor',
    );
    expectProblem(
      await operator('POST', '/api/v1/advisories', advisory({ id: 'CVE-2026-10004', affected: [{ app: 'meter', versions: '*' }] })),
      403,
      'auth.forbidden',
    );
    expectProblem(await acme('GET', '/api/v1/advisories/CVE-2026-10002'), 404, 'advisory.unknown');
    const seen = (await globex('GET', '/api/v1/advisories')).body.advisories.map((a: { id: string }) => a.id);
    expect(seen).toContain('CVE-2026-10002');
    expect(seen).not.toContain('CVE-2026-10001');
    // An admin's advisory over both vendors' digests shows each vendor only its own part.
    const both = await admin('POST', '/api/v1/advisories', advisory({ id: 'CVE-2026-10005', affected: [{ digests: [digest(2), digest(8)] }] }));
    expect(both.status, JSON.stringify(both.body)).toBe(201);
    const acmeView = (await acme('GET', '/api/v1/advisories/CVE-2026-10005')).body;
    expect(acmeView.affected).toEqual([{ digests: [digest(2)] }]);
    expect(acmeView.affectedVersions).toEqual([{ app: 'meter', version: '1.1.0', digest: digest(2) }]);
    expect((await globex('GET', '/api/v1/advisories/CVE-2026-10005')).body.affected).toEqual([{ digests: [digest(8)] }]);
  });

  it('refuses bad input with a 4xx naming the field, and stores nothing', async () => {
    const bad: [unknown, string][] = [
      [advisory({ id: 'CVE-26-1', affected: [{ app: 'meter', versions: '*' }] }), 'id'],
      [advisory({ id: 'GHSA-aaaa-bbbb-cccc', affected: [{ app: 'meter', versions: '*' }] }), 'id'],
      [advisory({ id: 'CVE-2026-20001', severity: 'severe', affected: [{ app: 'meter', versions: '*' }] }), 'severity'],
      [advisory({ id: 'CVE-2026-20001', cvss: 'CVSS:3.1/AV:X/AC:L', affected: [{ app: 'meter', versions: '*' }] }), 'cvss'],
      [advisory({ id: 'CVE-2026-20001', affected: [{ app: 'meter', versions: 'not a range' }] }), 'affected.0.versions'],
      [advisory({ id: 'CVE-2026-20001', affected: [{ app: 'meter' }] }), 'affected.0.versions'],
      [advisory({ id: 'CVE-2026-20001', affected: [{ app: 'meter', digests: [digest(1)], versions: '*' }] }), 'affected.0'],
      [advisory({ id: 'CVE-2026-20001', affected: [{ digests: ['sha256:XYZ'] }] }), 'affected.0.digests.0'],
      [advisory({ id: 'CVE-2026-20001', affected: [] }), 'affected'],
      [advisory({ id: 'CVE-2026-20001', action: 'explode', affected: [{ app: 'meter', versions: '*' }] }), 'action'],
      [advisory({ id: 'CVE-2026-20001', references: ['http://x'], affected: [{ app: 'meter', versions: '*' }] }), 'references.0'],
      [advisory({ id: 'CVE-2026-20001', extra: 1, affected: [{ app: 'meter', versions: '*' }] }), 'body'],
    ];
    for (const [body, field] of bad) {
      const a = await acme('POST', '/api/v1/advisories', body);
      expect(a.status, JSON.stringify(a.body)).toBe(422);
      expect(a.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expectProblem(
      await acme('POST', '/api/v1/advisories', advisory({ id: 'CVE-2026-20001', affected: [{ app: 'no-such', versions: '*' }] })),
      422,
      'advisory.unknown_app',
    );
    const purl = await acme(
      'POST',
      '/api/v1/advisories',
      advisory({ id: 'CVE-2026-20001', affected: [{ purl: 'pkg:npm/lodash@4.17.20', versions: '<4.17.21' }] }),
    );
    expectProblem(purl, 422, 'request.invalid');
    expect(purl.body.errors).toEqual([{ field: 'affected.0.purl', message: expect.stringContaining('without a version (pkg:npm/lodash)') }]);
    const notPurl = await acme('POST', '/api/v1/advisories', advisory({ id: 'CVE-2026-20001', affected: [{ purl: 'lodash 4', versions: '*' }] }));
    expect(notPurl.body.errors).toEqual([{ field: 'affected.0.purl', message: expect.stringContaining('not a purl') }]);
    expectProblem(await acme('POST', '/api/v1/advisories', '{"id": ', '{"id": '), 400, 'request.bad_json');
    expectProblem(
      await acme('POST', '/api/v1/advisories', advisory({ id: 'CVE-2026-10001', affected: [{ app: 'meter', versions: '*' }] })),
      409,
      'advisory.exists',
    );
    expectProblem(await acme('GET', '/api/v1/advisories/not%20an%20id'), 400, 'request.bad_parameter');
    expectProblem(await operator('GET', '/api/v1/advisories/CVE-2026-20001'), 404, 'advisory.unknown');
    // Exposure reports name devices: operators only; their parameters are checked.
    expectProblem(await acme('GET', '/api/v1/advisories/CVE-2026-10001/exposure'), 403, 'auth.forbidden');
    expectProblem(await operator('GET', '/api/v1/advisories/CVE-2026-20001/exposure'), 404, 'advisory.unknown');
    expectProblem(await operator('GET', '/api/v1/advisories/CVE-2026-10001/exposure?format=xml'), 400, 'request.bad_parameter');
    expectProblem(await operator('GET', '/api/v1/advisories/CVE-2026-10001/exposure?groupBy=a%20b'), 400, 'request.bad_parameter');
    expect((await operator('GET', '/api/v1/advisories/CVE-2026-10001/exposure')).body).toMatchObject({ advisory: 'CVE-2026-10001', devices: [], groups: [] });
  });
});
