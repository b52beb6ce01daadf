import { beforeAll, describe, expect, it } from 'vitest';
import { call, type Answer } from '../orchestrator/harness.js';
import { harnessWithRoles } from './operator-api.js';
import { addDevice, capabilities, DIGEST_1, DIGEST_2 } from './fixtures.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';

const api = harnessWithRoles();
const as = api.as;
const acme = as('vendor:acme');
const globex = as('vendor:globex');
const operator = as('operator');

function expectProblem(a: Answer, status: number, field?: string): void {
  expect(a.status, JSON.stringify(a.body)).toBe(status);
  expect(a.headers['content-type']).toContain('application/problem+json');
  if (field !== undefined) expect(a.body.errors.map((e: { field: string }) => e.field)).toContain(field);
}

// Versions registered over HTTP are admitted from a registry (test/supply-chain/); here they go
// straight into the store as admission would have stored them, and HTTP is used for refusals
// that come before any registry is asked.
const version = (v: string, reference = `oci://registry.test/acme/meter:${v}`) => ({ version: v, component: { reference } });
const acmePolicy = testTrustPolicy('acme');
const verified = (v: string, digest: `sha256:${string}`, imports: string[] = []) =>
  insertVerifiedVersion(api.h.cp.deps.store, { appId: 'meter', version: v, digest, imports, rootsFingerprint: api.h.cp.deps.artifacts!.roots.fingerprint });

describe('vendors, apps and versions', () => {
  it('admins register vendors; vendors create their own apps and versions', async () => {
    expect((await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: acmePolicy })).status).toBe(201);
    const { vendor: _named, ...unnamed } = testTrustPolicy('globex');
    // A policy that does not name its vendor gets this vendor's name.
    expect((await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'globex', trustPolicy: unnamed })).body.trustPolicy.vendor).toBe('globex');
    expectProblem(await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: acmePolicy }), 409);
    expect((await acme('POST', '/api/v1/catalog/apps', { id: 'meter', description: 'reads meters' })).body).toMatchObject({ id: 'meter', vendor: 'acme' });
    expect((await globex('POST', '/api/v1/catalog/apps', { id: 'globex-app' })).status).toBe(201);
    await verified('1.0.0', DIGEST_1);
    await verified('1.1.0', DIGEST_2, ['berth:host/log@0.1.0']);
    expectProblem(await acme('POST', '/api/v1/catalog/apps/meter/versions', version('1.0.0')), 409);
    const list = await acme('GET', '/api/v1/catalog/apps');
    expect(list.body.apps.map((a: { id: string }) => a.id)).toEqual(['meter']);
    expect((await operator('GET', '/api/v1/catalog/apps')).body.apps.map((a: { id: string }) => a.id)).toEqual(['globex-app', 'meter']);
    expect((await acme('GET', '/api/v1/catalog/vendors/acme')).body.trustPolicy).toEqual(acmePolicy);
    // Operators list every vendor; a vendor lists itself alone.
    expect((await operator('GET', '/api/v1/catalog/vendors')).body.vendors.map((v: { name: string }) => v.name)).toEqual(['acme', 'globex']);
    const own = await acme('GET', '/api/v1/catalog/vendors');
    expect(own.body.vendors).toEqual([expect.objectContaining({ name: 'acme', trustPolicy: acmePolicy, createdAt: expect.any(String) })]);
  });

  it("a vendor touching another vendor's app is refused (403), and so is acting for another vendor", async () => {
    expectProblem(await globex('GET', '/api/v1/catalog/apps/meter'), 403);
    expectProblem(await globex('GET', '/api/v1/catalog/apps/meter/versions'), 403);
    expectProblem(await globex('POST', '/api/v1/catalog/apps/meter/versions', version('9.0.0')), 403);
    expectProblem(await globex('POST', '/api/v1/catalog/apps', { id: 'sneaky', vendor: 'acme' }), 403);
    expectProblem(await globex('GET', '/api/v1/catalog/vendors/acme'), 403);
    expect((await acme('GET', '/api/v1/catalog/apps/meter/versions')).body.versions).toHaveLength(2);
    // Nothing was added by the refused calls.
    expect((await api.h.admin('GET', '/api/v1/catalog/apps/meter/versions')).body.versions.map((v: { version: string }) => v.version)).toEqual([
      '1.0.0',
      '1.1.0',
    ]);
  });

  it('roles: operators do not write the catalog, vendors do not deploy or set trust policies', async () => {
    expectProblem(await operator('POST', '/api/v1/catalog/apps', { id: 'op-app', vendor: 'acme' }), 403);
    expectProblem(await acme('POST', '/api/v1/admin/deployments', { app: 'meter', version: '1.0.0', grants: {} }), 403);
    expectProblem(await acme('PUT', '/api/v1/catalog/vendors/acme/trust-policy', { trustPolicy: {} }), 403);
    // The same policy again: versions stay checked against an unchanged fingerprint.
    expect((await api.h.admin('PUT', '/api/v1/catalog/vendors/acme/trust-policy', { trustPolicy: acmePolicy })).status).toBe(200);
  });

  it('bad input on each catalog endpoint names the field', async () => {
    expectProblem(await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'Not A Name' }), 422, 'name');
    expectProblem(await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'x', extra: 1 }), 422, 'body');
    expectProblem(await api.h.admin('PUT', '/api/v1/catalog/vendors/acme/trust-policy', { trustPolicy: 'trust me' }), 422, 'trustPolicy');
    expectProblem(await api.h.admin('PUT', '/api/v1/catalog/vendors/nobody/trust-policy', { trustPolicy: testTrustPolicy('nobody') }), 404);
    // A policy is checked when it is set: valid, this vendor's, with a namespace.
    expectProblem(await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'nopolicy' }), 422, 'trustPolicy');
    expectProblem(await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'empty', trustPolicy: {} }), 422, 'trustPolicy');
    expectProblem(await api.h.admin('POST', '/api/v1/catalog/vendors', { name: 'other', trustPolicy: acmePolicy }), 422, 'trustPolicy');
    const { repositories: _r, ...noNamespace } = acmePolicy;
    const refused = await api.h.admin('PUT', '/api/v1/catalog/vendors/acme/trust-policy', { trustPolicy: noNamespace });
    expectProblem(refused, 422, 'trustPolicy');
    expect(refused.body.detail).toMatch(/no repositories/);
    expectProblem(
      await api.h.admin('PUT', '/api/v1/catalog/vendors/acme/trust-policy', { trustPolicy: { ...acmePolicy, publicKeys: ['not a key'] } }),
      422,
      'trustPolicy',
    );
    // PostgreSQL refuses NUL in text and jsonb: refused up front, not a 500 from the store.
    expectProblem(await api.h.admin('PUT', '/api/v1/catalog/vendors/acme/trust-policy', { trustPolicy: { a: ['\u0000'] } }), 422, 'trustPolicy.a.0');
    expectProblem(await acme('POST', '/api/v1/catalog/apps', { id: 'nul-app', description: 'a\u0000b' }), 422, 'description');
    expectProblem(await acme('POST', '/api/v1/catalog/apps', { id: 'UPPER' }), 422, 'id');
    expectProblem(await api.h.admin('POST', '/api/v1/catalog/apps', { id: 'no-vendor' }), 422, 'vendor');
    expectProblem(await api.h.admin('POST', '/api/v1/catalog/apps', { id: 'ghost-vendor', vendor: 'nobody' }), 422, 'vendor');
    expectProblem(await acme('POST', '/api/v1/catalog/apps/meter/versions', version('v1.0.0')), 422, 'version');
    expectProblem(await acme('POST', '/api/v1/catalog/apps/meter/versions', version('2.0.0', 'https://x/y')), 422, 'component.reference');
    // What admission reads from the artifact is not taken from the vendor (the old body shape).
    expectProblem(
      await acme('POST', '/api/v1/catalog/apps/meter/versions', {
        version: '2.0.0',
        component: { repository: 'oci://registry.test/acme/meter', digest: DIGEST_1, sizeBytes: 1 },
        imports: [],
      }),
      422,
    );
    // Refusals that come before any registry is asked name the reference and say why.
    const other = await acme('POST', '/api/v1/catalog/apps/meter/versions', version('2.0.0', 'oci://registry.test/globex/meter:2.0.0'));
    expectProblem(other, 422, 'component.reference');
    expect(other.body.code).toBe('policy.namespace');
    const mistagged = await acme('POST', '/api/v1/catalog/apps/meter/versions', version('2.0.0', 'oci://registry.test/acme/meter:2.0.1'));
    expectProblem(mistagged, 422, 'component.reference');
    expect(mistagged.body.detail).toMatch(/not the version '2\.0\.0'/);
    expectProblem(await acme('POST', '/api/v1/catalog/apps/meter/versions', version('2.0.0', 'oci://registry.test/acme/meter')), 422, 'component.reference');
    expectProblem(await acme('POST', '/api/v1/catalog/apps/meter/versions', undefined, '{"version":'), 400);
    expectProblem(await acme('GET', '/api/v1/catalog/apps/nope'), 404);
  });
});

describe('deployments', () => {
  beforeAll(async () => {
    const store = api.h.cp.deps.store;
    await addDevice(store, 'line-1', { labels: { site: 'north' }, caps: capabilities({ memory: '2Gi' }) });
    await addDevice(store, 'line-2', { labels: { site: 'north' }, caps: capabilities({ memory: '2Gi' }) });
    await addDevice(store, 'line-3', { labels: { site: 'south' } });
    await addDevice(store, 'gone', { labels: { site: 'north' }, status: 'revoked' });
  });
  const rules = [{ labelSelector: { matchExpressions: [{ key: 'site', operator: 'In', values: ['north'] }] } }];

  it('an operator deploys; placements, status aggregation, a rolling update and a rollback over HTTP', async () => {
    const created = await operator('POST', '/api/v1/admin/deployments', {
      id: 'meter-north',
      app: 'meter',
      version: '1.0.0',
      grants: { log: {} },
      deviceConstraints: { eligibilityRules: rules },
      rollout: { batchSize: 1 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.placed).toEqual(['line-1', 'line-2']);
    const got = await operator('GET', '/api/v1/admin/deployments/meter-north');
    expect(got.body.placements.map((p: { deviceId: string }) => p.deviceId)).toEqual(['line-1', 'line-2']);
    const status = await operator('GET', '/api/v1/admin/deployments/meter-north/status');
    expect(status.body).toMatchObject({ deploymentId: 'meter-north', devices: 2, counts: { pending: 2, installed: 0, failed: 0 }, errors: [] });
    // 1.1.0 imports logging, which the grants cover.
    const rolling = await operator('POST', '/api/v1/admin/deployments/meter-north/rollouts', { version: '1.1.0' });
    expect(rolling.status, JSON.stringify(rolling.body)).toBe(202);
    // Devices have not reported installed on 1.0.0, but a wave only waits on the new version.
    expect(rolling.body).toMatchObject({
      step: 'next-wave',
      state: 'rolling',
      targetVersion: '1.1.0',
      reason: null,
      waveTimeoutSeconds: 900,
      waveStartedAt: expect.any(String),
    });
    expect((await operator('GET', '/api/v1/admin/deployments/meter-north/status')).body.versions).toEqual({ '1.0.0': 1, '1.1.0': 1 });
    expectProblem(await operator('POST', '/api/v1/admin/deployments/meter-north/rollouts', { version: '1.1.0' }), 409);
    // An operator holds the rollout: no wave clock while paused; resuming starts a fresh one.
    expectProblem(await operator('POST', '/api/v1/admin/deployments/meter-north/rollout/resume', {}), 409);
    const paused = await operator('POST', '/api/v1/admin/deployments/meter-north/rollout/pause', {});
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body).toMatchObject({
      state: 'paused',
      targetVersion: '1.1.0',
      waveStartedAt: null,
      reason: { code: 'rollout.paused_by_operator', version: '1.1.0', message: expect.stringContaining('paused by operator') },
    });
    expectProblem(await operator('POST', '/api/v1/admin/deployments/meter-north/rollout/pause', {}), 409);
    expectProblem(await operator('POST', '/api/v1/admin/deployments/meter-north/rollout/pause', { now: true }), 422, 'body');
    expectProblem(await operator('POST', '/api/v1/admin/deployments/absent/rollout/pause', {}), 404);
    expect((await acme('POST', '/api/v1/admin/deployments/meter-north/rollout/pause', {})).status).toBe(403);
    const resumed = await operator('POST', '/api/v1/admin/deployments/meter-north/rollout/resume', {});
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body).toMatchObject({ step: 'waiting', state: 'rolling', targetVersion: '1.1.0', reason: null, waveStartedAt: expect.any(String) });
    const audit = await operator('GET', '/api/v1/admin/audit?event=rollout.');
    expect(audit.body.events.map((e: { event: string; fields: { deploymentId: string } }) => `${e.event} ${e.fields.deploymentId}`)).toEqual([
      'rollout.resumed meter-north',
      'rollout.paused meter-north',
      'rollout.started meter-north',
    ]);
    const back = await operator('POST', '/api/v1/admin/deployments/meter-north/rollbacks', {});
    expect(back.body).toEqual({ deploymentId: 'meter-north', version: '1.0.0' });
    expect((await operator('GET', '/api/v1/admin/deployments/meter-north/status')).body.versions).toEqual({ '1.0.0': 2 });
    expectProblem(await operator('POST', '/api/v1/admin/deployments/meter-north/rollbacks', {}), 409);
    expect((await operator('DELETE', '/api/v1/admin/deployments/meter-north')).body.removedFrom).toEqual(['line-1', 'line-2']);
    expectProblem(await operator('GET', '/api/v1/admin/deployments/meter-north'), 404);
  });

  it("grants must cover the version's imports, at admission and at a rollout", async () => {
    expectProblem(await operator('POST', '/api/v1/admin/deployments', { app: 'meter', version: '1.1.0', grants: {} }), 422, 'grants');
    expect(
      (await operator('POST', '/api/v1/admin/deployments', { id: 'no-log', app: 'meter', version: '1.0.0', grants: {}, deviceIds: ['line-3'] })).status,
    ).toBe(201);
    expectProblem(await operator('POST', '/api/v1/admin/deployments/no-log/rollouts', { version: '1.1.0' }), 422, 'version');
    expect((await operator('GET', '/api/v1/admin/deployments/no-log')).body.rollout.state).toBe('none');
  });

  it('bad input on each deployment endpoint names the field; nothing is half-admitted', async () => {
    const base = { app: 'meter', version: '1.0.0', grants: {} };
    const sel = (expr: unknown) => ({ ...base, deviceConstraints: { eligibilityRules: [{ propertySelector: { matchExpressions: [expr] } }] } });
    const post = (b: unknown) => operator('POST', '/api/v1/admin/deployments', b);
    expectProblem(
      await post(sel({ key: '/properties/memory', operator: 'Near', values: ['x'] })),
      422,
      'deviceConstraints.eligibilityRules.0.propertySelector.matchExpressions.0.operator',
    );
    expectProblem(
      await post(sel({ key: 'properties/memory', operator: 'Exists' })),
      422,
      'deviceConstraints.eligibilityRules.0.propertySelector.matchExpressions.0',
    );
    expectProblem(
      await post(sel({ key: '/properties/memory', operator: 'Gt', values: ['lots'] })),
      422,
      'deviceConstraints.eligibilityRules.0.propertySelector.matchExpressions.0',
    );
    expectProblem(
      await post({ ...base, deviceConstraints: { capacityRequirements: { memory: '2GB' } } }),
      422,
      'deviceConstraints.capacityRequirements.memory',
    );
    expectProblem(
      await post({ ...base, deviceConstraints: { capacityRequirements: { cpu: { architectures: ['sparc'] } } } }),
      422,
      'deviceConstraints.capacityRequirements.cpu.architectures.0',
    );
    expectProblem(await post({ ...base, mode: 'spread' }), 422, 'replicas');
    expectProblem(await post({ ...base, replicas: 2 }), 422, 'replicas');
    expectProblem(await post({ ...base, tier: 'vm' }), 422, 'tier');
    expectProblem(await post({ ...base, grants: { 'outbound-http': { allow: [] } } }), 422, 'grants.outbound-http.allow');
    expectProblem(await post({ ...base, grants: { teleport: {} } }), 422, 'grants');
    expectProblem(await post({ ...base, parameters: { '\u0000': 1 } }), 422, 'parameters.\\u0000');
    expectProblem(
      await post(sel({ key: '/a\u0000', operator: 'Exists' })),
      422,
      'deviceConstraints.eligibilityRules.0.propertySelector.matchExpressions.0.key',
    );
    expectProblem(
      await post(sel({ key: '/a', operator: 'Exists', itemSelector: {} })),
      422,
      'deviceConstraints.eligibilityRules.0.propertySelector.matchExpressions.0',
    );
    expectProblem(await post({ ...base, deviceIds: ['line-1', 'nowhere'] }), 422, 'deviceIds.1');
    expectProblem(await post({ ...base, deviceIds: ['../etc'] }), 422, 'deviceIds.0');
    expectProblem(await post({ ...base, version: '7.0.0' }), 422, 'version');
    expectProblem(await post({ ...base, app: 'absent' }), 422, 'app');
    expectProblem(await post({ ...base, id: 'Bad Id' }), 422, 'id');
    expectProblem(await post({ ...base, surprise: true }), 422, 'body');
    expectProblem(await operator('POST', '/api/v1/admin/deployments', undefined, '[1,'), 400);
    expectProblem(await operator('POST', '/api/v1/admin/deployments/no-log/rollouts', { version: 'latest' }), 422, 'version');
    expectProblem(await operator('POST', '/api/v1/admin/deployments/no-log/rollouts', { version: '1.0.0' }), 422, 'version');
    expectProblem(await operator('POST', '/api/v1/admin/deployments/no-log/rollouts', { version: '1.1.0', batchSize: 0 }), 422, 'batchSize');
    expectProblem(await operator('POST', '/api/v1/admin/deployments/no-log/rollouts', { version: '1.1.0', waveTimeoutSeconds: 0 }), 422, 'waveTimeoutSeconds');
    expectProblem(
      await operator('POST', '/api/v1/admin/deployments/no-log/rollouts', { version: '1.1.0', waveTimeoutSeconds: 'soon' }),
      422,
      'waveTimeoutSeconds',
    );
    expectProblem(await operator('POST', '/api/v1/admin/deployments/absent/rollouts', { version: '1.1.0' }), 404);
    expectProblem(await operator('POST', '/api/v1/admin/deployments/no-log/rollbacks', { please: true }), 422, 'body');
    expectProblem(await operator('GET', '/api/v1/admin/deployments/absent/status'), 404);
    expectProblem(await operator('DELETE', '/api/v1/admin/deployments/absent'), 404);
    // Only the one good deployment exists.
    expect((await operator('GET', '/api/v1/admin/deployments')).body.deployments.map((d: { id: string }) => d.id)).toEqual(['no-log']);
  });

  it('spread and node-lock through the API; never on a revoked device, and revocation removes placements', async () => {
    const spread = await operator('POST', '/api/v1/admin/deployments', {
      id: 'spread-2',
      app: 'meter',
      version: '1.0.0',
      grants: {},
      mode: 'spread',
      replicas: 2,
      deviceConstraints: { eligibilityRules: rules },
    });
    expect(spread.body).toMatchObject({ placed: ['line-1', 'line-2'], unplaced: 0 });
    const locked = await operator('POST', '/api/v1/admin/deployments', {
      id: 'locked',
      app: 'meter',
      version: '1.0.0',
      grants: {},
      deviceIds: ['gone', 'line-1'],
    });
    expect(locked.body).toMatchObject({ placed: ['line-1'] });
    // Revocation takes the device's placements away in the same transaction.
    expect((await operator('POST', '/api/v1/admin/device-revocations', { deviceId: 'line-1' })).status).toBe(200);
    const devicesOf = async (id: string) =>
      (await operator('GET', `/api/v1/admin/deployments/${id}`)).body.placements.map((p: { deviceId: string }) => p.deviceId);
    expect(await devicesOf('spread-2')).toEqual(['line-2']);
    expect(await devicesOf('locked')).toEqual([]);
    // A newly eligible device takes the missing spread instance on the next recompute.
    await api.h.cp.deps.store.query(`UPDATE devices SET labels = '{"site":"north"}'::jsonb WHERE id = 'line-3'`);
    expect((await operator('POST', '/api/v1/admin/scheduler/sweeps', {})).status).toBe(200);
    expect(await devicesOf('spread-2')).toEqual(['line-2', 'line-3']);
  });
  it('random and mutated bodies on every catalog and deployment endpoint: 4xx problems or a success, never a 500 (bounded: 60 per endpoint)', async () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const values = (): unknown[] => [
      null,
      true,
      0,
      -1,
      1.5,
      1e308,
      '',
      'x'.repeat(Math.floor(rand() * 300)),
      [],
      {},
      [1, 'a'],
      { key: 1 },
      '\u0000',
      '/a~2',
      'Gt',
      ['In'],
      { matchExpressions: [{ key: 1 }] },
    ];
    const good: Record<string, unknown> = {
      '/api/v1/catalog/vendors': { name: 'fuzz', trustPolicy: testTrustPolicy('fuzz') },
      '/api/v1/catalog/vendors/acme/trust-policy': { trustPolicy: { a: 1 } },
      '/api/v1/catalog/apps': { id: 'fuzz-app', vendor: 'acme' },
      // Outside acme's namespace, so no mutation of it reaches a registry (those are test/supply-chain/'s).
      '/api/v1/catalog/apps/meter/versions': version('3.0.0', 'oci://elsewhere.test/acme/meter:3.0.0'),
      '/api/v1/admin/deployments': {
        app: 'meter',
        version: '1.0.0',
        grants: { log: {} },
        mode: 'spread',
        replicas: 1,
        deviceConstraints: { capacityRequirements: { memory: '1Mi' }, eligibilityRules: rules },
      },
      '/api/v1/admin/deployments/no-log/rollouts': { version: '1.1.0' },
      '/api/v1/admin/deployments/no-log/rollbacks': {},
    };
    /** Replaces one value somewhere in the body (or adds a key) with a random one. */
    const mutate = (v: unknown, depth = 0): unknown => {
      if (v === null || typeof v !== 'object' || depth > 5 || rand() < 0.25) return pick(values());
      if (Array.isArray(v)) return v.length === 0 ? [pick(values())] : v.map((x, i) => (i === Math.floor(rand() * v.length) ? mutate(x, depth + 1) : x));
      const o = { ...(v as Record<string, unknown>) };
      const keys = Object.keys(o);
      const k = keys.length === 0 || rand() < 0.15 ? pick(['extra', '__proto__', 'constructor', 'itemSelector']) : pick(keys);
      o[k] = mutate(o[k], depth + 1);
      return o;
    };
    for (const [path, valid] of Object.entries(good)) {
      for (let i = 0; i < 60; i++) {
        const raw =
          rand() < 0.2
            ? Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))).toString('latin1')
            : JSON.stringify(mutate(valid));
        const method = path.endsWith('trust-policy') ? 'PUT' : 'POST';
        const answer = await call(`${api.h.cp.url}${path}`, {
          method,
          ca: api.h.ca,
          raw,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${api.h.adminToken}` },
        });
        expect(answer.status, `${path} ${raw}`).toBeLessThan(500);
        if (answer.status >= 400) expect(answer.headers['content-type'], `${path} ${raw}`).toContain('application/problem+json');
      }
    }
  });
});
