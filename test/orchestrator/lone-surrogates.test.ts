import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onboard, type TestDevice } from '../device-api/support.js';
import { capabilities } from '../deployments/fixtures.js';
import { insertVerifiedVersion, testTrustPolicy } from '../support/verified-catalog.js';
import { startHarness, type Answer, type Harness } from './harness.js';

/**
 * Valid JSON may carry a lone UTF-16 surrogate ("\udc00"); PostgreSQL refuses it in jsonb. Every
 * body that is stored is sent with one in each free-text place: the answer is 2xx with the text
 * stored as U+FFFD (the store's sanitiser, orchestrator/store/sanitise.ts) or a 4xx, never a 500.
 */
const HIGH = '\ud800';
const LOW = '\udc00';

let h: Harness;
let work: string;
let device: TestDevice;
beforeAll(async () => {
  h = await startHarness();
  work = mkdtempSync(join(tmpdir(), 'berth-surrogate-'));
  device = await onboard(h, 'sur-dev', work);
});
afterAll(async () => {
  await h?.stop();
  rmSync(work, { recursive: true, force: true });
});

function expectStored(answer: Answer): void {
  expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(200);
  expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
}

const row = async <T>(sql: string, params: unknown[]): Promise<T> => (await h.cp.deps.store.query<Record<string, T>>(sql, params))[0]!.v!;

describe('a lone surrogate in a stored body is kept as U+FFFD, never a 500', () => {
  it('enrollment-token labels', async () => {
    const answer = await h.admin('POST', '/api/v1/admin/enrollment-tokens', { labels: { site: `north${HIGH}` } });
    expectStored(answer);
    const labels = await row<Record<string, string>>('SELECT labels AS v FROM enrollment_tokens ORDER BY created_at DESC LIMIT 1', []);
    expect(labels).toEqual({ site: 'north\ufffd' });
  });

  it('device capabilities: label keys and values, x-…-extensions', async () => {
    const manifest = {
      ...capabilities({ labels: { [`k${LOW}`]: `v${HIGH}x`, plain: `${LOW}${HIGH}` } }),
      properties: { ...capabilities().properties, id: device.id },
      'x-acme-extensions': { [`n${HIGH}`]: [`deep${LOW}`] },
    };
    expectStored(await device.send(h, 'PUT', `/api/v1/capabilities/${device.id}`, { json: manifest }));
    const stored = await row<Record<string, any>>('SELECT manifest AS v FROM device_capabilities WHERE device_id = $1', [device.id]);
    expect(stored.labels).toEqual({ 'k\ufffd': 'v\ufffdx', plain: '\ufffd\ufffd' });
    expect(stored['x-acme-extensions']).toEqual({ 'n\ufffd': ['deep\ufffd'] });
  });

  it('vendor trust policies, deployment selectors and status reports', async () => {
    const policy = await h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: { ...testTrustPolicy('acme'), [`note${LOW}`]: `x${HIGH}` } });
    expect(policy.status, JSON.stringify(policy.body)).toBeLessThan(500);
    if (policy.status >= 300) expectStored(await h.admin('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: testTrustPolicy('acme') }));
    const replaced = await h.admin('PUT', '/api/v1/catalog/vendors/acme/trust-policy', {
      trustPolicy: { ...testTrustPolicy('acme'), [`note${LOW}`]: `x${HIGH}` },
    });
    expect(replaced.status, JSON.stringify(replaced.body)).toBeLessThan(500);
    expectStored(await h.admin('POST', '/api/v1/catalog/apps', { id: 'meter', vendor: 'acme', description: `reads${HIGH}` }));
    await insertVerifiedVersion(h.cp.deps.store, {
      appId: 'meter',
      version: '1.0.0',
      digest: `sha256:${'1'.repeat(64)}`,
      imports: [],
      rootsFingerprint: h.cp.deps.artifacts!.roots.fingerprint,
    });

    const selector = { labelSelector: { matchExpressions: [{ key: 'plain', operator: 'NotIn', values: [`a${HIGH}`, `b${LOW}`] }] } };
    const created = await h.admin('POST', '/api/v1/admin/deployments', {
      id: 'sur-dep',
      app: 'meter',
      version: '1.0.0',
      grants: {},
      parameters: { [`p${LOW}`]: { value: `q${HIGH}`, targets: [{ pointer: `/x${LOW}`, components: [`c${HIGH}`] }] } },
      deviceIds: [device.id],
      deviceConstraints: { eligibilityRules: [selector] },
    });
    expectStored(created);
    expect(created.body.placed).toEqual([device.id]);

    const report = {
      deploymentId: 'sur-dep',
      deviceId: device.id,
      adoptedManifestVersion: 1,
      status: { state: 'failed', error: { code: `code${HIGH}`, source: 'device', message: `${'m'.repeat(10)}${HIGH}` } },
      components: [{ name: `comp${LOW}`, state: 'failed', error: { message: LOW } }],
      'x-berth-extensions': { version: '1.0.0', usage: { [`mem${HIGH}`]: 1, cpu: { [`k${LOW}`]: 2 } } },
    };
    expectStored(await device.send(h, 'POST', '/api/v1/deployments/sur-dep/status', { json: report }));
    const status = await h.cp.deps.store.query<{ error: any; components: any; usage: any }>(
      'SELECT error, components, usage FROM deployment_device_status WHERE deployment_id = $1',
      ['sur-dep'],
    );
    expect(status[0]!.error).toMatchObject({ code: 'code\ufffd', message: 'mmmmmmmmmm\ufffd' });
    expect(status[0]!.components[0].name).toBe('comp\ufffd');
    expect(status[0]!.usage).toEqual({ 'mem\ufffd': 1, cpu: { 'k\ufffd': 2 } });
    const aggregate = await h.admin('GET', '/api/v1/admin/deployments/sur-dep/status');
    expect(aggregate.status).toBe(200);
  });
});
