import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildControlPlaneApp, type ControlPlaneDeps } from '../../orchestrator/app.js';
import { CONSOLE_FILES, loadConsoleAssets } from '../../orchestrator/console/assets.js';
import { consoleRoutes } from '../../orchestrator/routes/console-routes.js';
import { enroll } from '../../runtime/agent/enroll.js';
import { x509 } from '../../trust/x509.js';
import { call, startHarness, type Harness } from '../orchestrator/harness.js';

describe("the console's files", () => {
  let dir: string;
  const deps = { logger: console } as unknown as ControlPlaneDeps;
  const app = (built: boolean) => buildControlPlaneApp(deps, [(d) => consoleRoutes(d, () => (built ? loadConsoleAssets(dir) : undefined))]);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-console-'));
    for (const name of Object.keys(CONSOLE_FILES)) writeFileSync(join(dir, name), `/* ${name} */`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the page at /console/ with a strict CSP and an ETag, and 304 when unchanged', async () => {
    const page = await app(true).request('/console/');
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('/* index.html */');
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy')!;
    for (const directive of ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) expect(csp).toContain(directive);
    expect(csp).not.toContain('unsafe');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const etag = page.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    const again = await app(true).request('/console/', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('serves the script and style by name, redirects /console, and nothing else', async () => {
    const script = await app(true).request('/console/console.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // Relative, so a control plane behind a path prefix stays within it.
    const bare = await app(true).request('/console');
    expect([bare.status, bare.headers.get('location')]).toEqual([301, 'console/']);
    for (const path of ['/console/package.json', '/console/..%2Fpackage.json', '/console/console.js.map']) {
      expect((await app(true).request(path)).status, path).toBeGreaterThanOrEqual(400);
    }
    expect((await app(true).request('/console/package.json')).status).toBe(404);
  });

  it('answers 404 naming the build when the console was not built', async () => {
    const answer = await app(false).request('/console/');
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ code: 'console.not_built' });
    expect((await app(false).request('/console/package.json')).status).toBe(404);
  });

  it('reads nothing when a file is missing', () => {
    const partial = mkdtempSync(join(tmpdir(), 'berth-console-'));
    try {
      writeFileSync(join(partial, 'index.html'), '');
      expect(loadConsoleAssets(partial)).toBeUndefined();
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  });
});

describe('the routes the console reads: /api/v1/admin/fleet and /api/v1/whoami', () => {
  let h: Harness;
  let work: string;
  beforeAll(async () => {
    h = await startHarness();
    work = mkdtempSync(join(tmpdir(), 'berth-console-fleet-'));
  });
  afterAll(async () => {
    await h?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('lists each device with its site label, certificate expiry and no apps or polls yet', async () => {
    const token = await h.enrollmentToken({ deviceId: 'press-7', labels: { site: 'plant-east' } });
    const identity = await enroll({ url: h.cp.url, ca: h.ca, dir: join(work, 'press-7'), credential: { kind: 'token', token } });
    const notAfter = new x509.X509Certificate(identity.certificatePem).notAfter.toISOString();
    const answer = await h.admin('GET', '/api/v1/admin/fleet');
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.body.devices).toEqual([
      {
        id: 'press-7',
        status: 'active',
        labels: { site: 'plant-east' },
        createdAt: expect.any(String),
        health: null,
        lastSeenAt: null,
        certificateNotAfter: notAfter,
        apps: [],
      },
    ]);
  });

  it('says who a token is: an admin, a vendor (with its vendor), and 401 without one', async () => {
    expect((await h.admin('GET', '/api/v1/whoami')).body).toEqual({ name: 'test admin', role: 'admin' });
    const vendor = await h.admin('POST', '/api/v1/admin/tokens', { name: 'acme ci', role: 'vendor:acme' });
    expect(vendor.status).toBe(201);
    const asVendor = await call(`${h.cp.url}/api/v1/whoami`, { ca: h.ca, headers: { authorization: `Bearer ${vendor.body.token}` } });
    expect(asVendor.body).toEqual({ name: 'acme ci', role: 'vendor:acme', vendor: 'acme' });
    // A vendor reads no fleet.
    const fleet = await call(`${h.cp.url}/api/v1/admin/fleet`, { ca: h.ca, headers: { authorization: `Bearer ${vendor.body.token}` } });
    expect(fleet.status).toBe(403);
    expect((await call(`${h.cp.url}/api/v1/whoami`, { ca: h.ca })).status).toBe(401);
  });
});
