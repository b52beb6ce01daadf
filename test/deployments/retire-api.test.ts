import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Answer } from '../orchestrator/harness.js';
import { berth } from '../support/berth-in-process.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';
import { DIGEST_1, DIGEST_2 } from './fixtures.js';
import { harnessWithRoles } from './operator-api.js';

const DIGEST_3 = `sha256:${'3'.repeat(64)}` as const;
const api = harnessWithRoles();
beforeAll(async () => {
  expect((await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: testTrustPolicy('acme') })).status).toBe(201);
  expect((await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'globex', trustPolicy: testTrustPolicy('globex') })).status).toBe(201);
  expect((await acme('POST', '/api/v1/catalog/apps', { id: 'meter' })).status).toBe(201);
  for (const [v, digest] of [
    ['1.0.0', DIGEST_1],
    ['1.1.0', DIGEST_2],
    ['2.0.0', DIGEST_3],
    ['3.0.0-rc.1', DIGEST_3],
  ] as const) {
    await insertVerifiedVersion(api.h.cp.deps.store, { appId: 'meter', version: v, digest, rootsFingerprint: api.h.cp.deps.artifacts!.roots.fingerprint });
  }
});

const as = api.as;
const acme = as('vendor:acme');
const globex = as('vendor:globex');
const operator = as('operator');
const versions = async () => (await acme('GET', '/api/v1/catalog/apps/meter/versions')).body.versions.map((v: { version: string }) => v.version);
const retire = (who: (m: string, p: string) => Promise<Answer>, version: string, app = 'meter') =>
  who('DELETE', `/api/v1/catalog/apps/${app}/versions/${version}`);

function expectProblem(a: Answer, status: number, code?: string): void {
  expect(a.status, JSON.stringify(a.body)).toBe(status);
  expect(a.headers['content-type']).toContain('application/problem+json');
  if (code !== undefined) expect(a.body.code).toBe(code);
}

describe('DELETE /api/v1/catalog/apps/{id}/versions/{version}', () => {
  it('retires an unused version for its vendor (204): gone from the listing, not deployable, logged', async () => {
    const answer = await retire(acme, '2.0.0');
    expect(answer.status, JSON.stringify(answer.body)).toBe(204);
    expect(await versions()).not.toContain('2.0.0');
    const event = api.h.events('catalog.version_retired').find((e) => e.version === '2.0.0');
    expect(event).toMatchObject({ app: 'meter', digest: DIGEST_3, by: 'vendor acme', repository: 'oci://registry.test/acme/meter' });
    const deploy = await operator('POST', '/api/v1/admin/deployments', { id: 'too-late', app: 'meter', version: '2.0.0', grants: {} });
    expectProblem(deploy, 422, 'deployment.unknown_version');
    // Twice: it is gone.
    expectProblem(await retire(acme, '2.0.0'), 404, 'catalog.unknown_version');
    // A pre-release works as a path segment; admins may retire too.
    expect((await retire(api.h.admin, '3.0.0-rc.1')).status).toBe(204);
  });

  it('is refused (409, naming the deployment) while a deployment runs the version or can roll back to it', async () => {
    const created = await operator('POST', '/api/v1/admin/deployments', { id: 'meter-north', app: 'meter', version: '1.0.0', grants: {} });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const current = await retire(acme, '1.0.0');
    expectProblem(current, 409, 'catalog.version_in_use');
    expect(current.body.detail).toContain('meter-north (current)');
    expect(current.body.errors).toEqual([{ field: 'deployments.meter-north', message: expect.stringContaining('current') }]);
    // No device: the rollout completes at once, and 1.0.0 is what a rollback returns to.
    const rolled = await operator('POST', '/api/v1/admin/deployments/meter-north/rollouts', { version: '1.1.0' });
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(202);
    expect((await operator('GET', '/api/v1/admin/deployments/meter-north')).body).toMatchObject({ version: '1.1.0', rollout: { previousVersion: '1.0.0' } });
    const target = await retire(api.h.admin, '1.0.0');
    expectProblem(target, 409, 'catalog.version_in_use');
    expect(target.body.detail).toContain('meter-north (rollback target)');
    expect(await versions()).toEqual(['1.0.0', '1.1.0']);
    // Once the deployment is gone, nothing holds either version.
    expect((await operator('DELETE', '/api/v1/admin/deployments/meter-north')).status).toBe(200);
    expect((await retire(acme, '1.0.0')).status).toBe(204);
    expect(await versions()).toEqual(['1.1.0']);
  });

  it('404 for an unknown app or version, 403 for another vendor or the operator role, 4xx problems for bad version strings', async () => {
    expectProblem(await retire(acme, '9.9.9'), 404, 'catalog.unknown_version');
    expectProblem(await retire(api.h.admin, '1.1.0', 'no-such-app'), 404, 'catalog.unknown_app');
    expectProblem(await retire(globex, '1.1.0'), 403, 'catalog.other_vendor');
    expectProblem(await retire(operator, '1.1.0'), 403);
    for (const bad of ['v1.1.0', 'latest', '1.1', '%ZZ', '%E0%A4%A', '1.0.0%00', 'x'.repeat(300), '..', '1.0.0%2Fx']) {
      const a = await retire(acme, bad);
      expect(a.status, `${bad}: ${JSON.stringify(a.body)}`).toBeGreaterThanOrEqual(400);
      expect(a.status, bad).toBeLessThan(500);
      expect(a.headers['content-type']).toContain('application/problem+json');
    }
    expectProblem(await retire(acme, 'v1.1.0'), 422, 'request.invalid');
    expect(await versions()).toEqual(['1.1.0']);
  });

  it('berth orchestrator retire-version: over the admin socket, and as the vendor over HTTPS', async () => {
    for (const [v, digest] of [
      ['4.0.0', DIGEST_1],
      ['4.1.0', DIGEST_2],
    ] as const) {
      await insertVerifiedVersion(api.h.cp.deps.store, { appId: 'meter', version: v, digest, rootsFingerprint: api.h.cp.deps.artifacts!.roots.fingerprint });
    }
    const caFile = join(api.h.dir, 'test-ca.pem');
    writeFileSync(caFile, api.h.ca.join('\n'));
    const said = (r: { code: number; out: string; err: string }) => `exit ${r.code}; stdout: ${r.out}; stderr: ${r.err}`;
    const bySocket = await berth('orchestrator', 'retire-version', 'meter', '4.0.0', '--data-dir', api.h.dir);
    expect(bySocket.code, said(bySocket)).toBe(0);
    expect(JSON.parse(bySocket.out)).toEqual({ app: 'meter', version: '4.0.0', retired: true });
    const otherVendor = await berth(
      'orchestrator',
      'retire-version',
      'meter',
      '4.1.0',
      '--url',
      api.h.cp.url,
      '--token',
      api.token('vendor:globex'),
      '--ca',
      caFile,
    );
    expect(otherVendor.code, said(otherVendor)).toBe(1);
    expect(otherVendor.err).toContain('another vendor');
    const ownVendor = await berth(
      'orchestrator',
      'retire-version',
      'meter',
      '4.1.0',
      '--url',
      api.h.cp.url,
      '--token',
      api.token('vendor:acme'),
      '--ca',
      caFile,
    );
    expect(ownVendor.code, said(ownVendor)).toBe(0);
    const gone = await berth('orchestrator', 'retire-version', 'meter', '4.1.0', '--data-dir', api.h.dir);
    expect(gone.code, said(gone)).toBe(1);
    expect(gone.err).toContain('No such version');
    expect(await versions()).toEqual(['1.1.0']);
  });
});
