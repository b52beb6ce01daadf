import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { createOperatorToken } from '../../orchestrator/admin/tokens.js';
import { buildControlPlaneApp, coreRoutes } from '../../orchestrator/app.js';
import { mirrorRoutes } from '../../orchestrator/mirror/routes.js';
import { deviceApiRoutes } from '../../orchestrator/routes/device-api-routes.js';
import { onboard, type TestDevice } from '../device-api/support.js';
import { call, startHarness, type Harness } from './harness.js';

/**
 * Every route with a path parameter, taken from the control plane's own route table (so a route
 * added later is covered without editing this file), is called with each hostile segment in
 * each parameter, with an admin token, a vendor token and a device certificate: never a 5xx,
 * and an escaped NUL is a 400 problem document.
 */
const HOSTILE = ['%00', 'a%00b', '%ED%A0%80', 'x%ED%B0%80', '%F0%9F', '%C0%80', '%FF', '%0A', '%7F'];

let h: Harness;
let work: string;
let device: TestDevice;
let vendorToken: string;
let routes: { method: string; path: string }[];
beforeAll(async () => {
  h = await startHarness();
  work = mkdtempSync(join(tmpdir(), 'berth-params-'));
  device = await onboard(h, 'param-dev', work);
  vendorToken = (await createOperatorToken(h.cp.deps.store, silentLogger, { name: 'acme', role: 'vendor:acme', by: 'test' })).token;
  const app = buildControlPlaneApp(h.cp.deps, [...coreRoutes, deviceApiRoutes(h.cp.desiredState), mirrorRoutes(h.cp.mirror.storage)]);
  const seen = new Set<string>();
  routes = app.routes
    .filter((r) => r.method !== 'ALL' && r.path.includes('/:'))
    .filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`));
});
afterAll(async () => {
  await h?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The route's path with parameter `index` replaced by `value` and the others by plausible ids. */
function fill(path: string, index: number, value: string): string {
  let i = 0;
  return path.replace(/:([A-Za-z]+)(\{[^}]*\})?/g, (_m, name: string) => {
    const mine = i++ === index;
    if (mine) return value;
    if (name === 'decision') return 'approve';
    if (name === 'digest') return `sha256:${'0'.repeat(64)}`;
    if (name === 'requestId' || name === 'id') return '0'.repeat(32);
    return 'param-dev';
  });
}

describe('hostile path parameters are a 4xx on every route, never a 5xx', () => {
  it('the route table has the operator, catalog, onboarding and device routes with parameters', () => {
    const paths = routes.map((r) => `${r.method} ${r.path}`);
    for (const expected of [
      'GET /api/v1/admin/deployments/:id',
      'POST /api/v1/admin/deployments/:id/rollouts',
      'GET /api/v1/catalog/apps/:id/versions',
      'PUT /api/v1/catalog/vendors/:name/trust-policy',
      'DELETE /api/v1/catalog/apps/:id/versions/:version',
    ]) {
      expect(paths).toContain(expected);
    }
    expect(routes.length).toBeGreaterThan(12);
  });

  it('each parameter of each route, with each hostile segment and each kind of caller', async () => {
    const callers: Record<string, { key?: string; cert?: string; headers?: Record<string, string> }> = {
      admin: { headers: { authorization: `Bearer ${h.adminToken}` } },
      vendor: { headers: { authorization: `Bearer ${vendorToken}` } },
      device: { key: device.keyPem, cert: device.certificatePem },
    };
    const failures: string[] = [];
    let calls = 0;
    for (const route of routes) {
      const params = route.path.match(/:[A-Za-z]+/g)!.length;
      for (let p = 0; p < params; p++) {
        for (const bad of HOSTILE) {
          const path = fill(route.path, p, bad);
          for (const [who, credentials] of Object.entries(callers)) {
            const body = ['POST', 'PUT'].includes(route.method) ? { json: {} } : {};
            const answer = await call(h.cp.url + path, { method: route.method, ca: h.ca, ...credentials, ...body });
            calls++;
            if (answer.status >= 500) failures.push(`${who} ${route.method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
            else if (bad.includes('%00') && answer.status !== 400) failures.push(`${who} ${route.method} ${path}: ${answer.status}, expected 400`);
            else if (answer.status === 400) expect(answer.headers['content-type'], path).toContain('application/problem+json');
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(100);
  }, 240_000);

  it('a NUL in a path id that reaches the store is still a 400, not a PostgreSQL error', async () => {
    // Past the path check (the admin socket and future callers go straight to the handlers'
    // functions): the store boundary refuses it.
    const { getDeployment } = await import('../../orchestrator/store/deployments.js');
    await expect(getDeployment(h.cp.deps.store, 'a\u0000b')).rejects.toMatchObject({ code: 'store.nul_in_text' });
  });
});
