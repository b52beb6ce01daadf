import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { buildControlPlaneApp, coreRoutes, type ControlPlaneDeps } from '../../orchestrator/app.js';
import { ControlPlaneMetrics } from '../../orchestrator/metrics/registry.js';
import { openApiPath } from '../../orchestrator/openapi/paths.js';
import { REFERENCE_PAGE_CSP } from '../../orchestrator/openapi/reference-page.js';
import { controlPlaneRoutes } from '../../orchestrator/routes/index.js';
import { OpenApiConformance } from '../support/openapi-conformance.js';

/** The app as url-tree.test.ts builds it: every route module, no request reaching a collaborator. */
function app() {
  const deps = { logger: console, fleetSigning: {}, metrics: new ControlPlaneMetrics() } as unknown as ControlPlaneDeps;
  return buildControlPlaneApp(deps, controlPlaneRoutes(coreRoutes, {} as never, {} as never));
}

const conformance = new OpenApiConformance();
const doc = conformance.document;
const documented = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)));

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(JSON.stringify(doc)));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('describes every route the control plane serves, and no other', () => {
    // `ALL` lines are middleware (auth, path checks), except the mirror's: the registry
    // dispatches every /v2 path itself, so its pull operations are described by hand.
    const served = new Set(
      app()
        .routes.filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    const mirror = [...documented].filter((r) => r.split(' ')[1]!.startsWith('/v2'));
    expect(mirror.sort()).toEqual([
      'DELETE /v2/{name}/blobs/{digest}',
      'DELETE /v2/{name}/manifests/{reference}',
      'GET /v2/',
      'GET /v2/{name}/blobs/{digest}',
      'GET /v2/{name}/manifests/{reference}',
      'POST /v2/{name}/blobs/uploads/',
      'PUT /v2/{name}/manifests/{reference}',
    ]);
    expect([...documented].filter((r) => !served.has(r) && !mirror.includes(r))).toEqual([]);
    expect(app().routes.filter((r) => r.method === 'ALL' && r.path.startsWith('/v2')).length).toBeGreaterThan(0);
  });

  it('compiles every response schema it declares', () => {
    // Compiling them all catches a $ref that does not resolve before an API test meets it.
    expect(conformance.compileAll()).toBeGreaterThan(100);
  });

  it('names the request body schema each route reads with', () => {
    const op = doc.paths['/api/v1/admin/tokens']!.post!;
    expect(op.requestBody?.content['application/json']?.schema).toMatchObject({ type: 'object', required: ['name', 'role'], additionalProperties: false });
    expect(op.security).toEqual([{ operatorToken: [] }]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['201', '401', '403', '415', '422', '500', '503']));
    const audit = doc.paths['/api/v1/admin/audit']!.get!;
    expect(audit.parameters?.map((p) => p.name)).toEqual(['before', 'after', 'limit', 'event', 'deviceId']);
  });
});

describe('the conformance check every harness answer goes through', () => {
  const problem = (code: string) => ({ type: 'about:blank', title: 't', status: 0, code, detail: 'd' });
  const answer = (method: string, path: string, status: number, contentType: string, json?: unknown) => ({
    method,
    path,
    status,
    contentType,
    text: json === undefined ? 'x' : JSON.stringify(json),
    json,
  });

  it('takes a 401 where no operation is described as the app’s own, when it is a problem document', () => {
    expect(
      conformance.mismatch(
        answer('GET', '/api/v1/identity/nothing', 401, 'application/problem+json', { ...problem('tls.no_client_certificate'), status: 401 }),
      ),
    ).toBeUndefined();
    expect(conformance.mismatch(answer('GET', '/api/v1/identity/nothing', 401, 'text/plain'))).toMatch(
      /app-wide refusal that is not application\/problem\+json/,
    );
    expect(conformance.mismatch(answer('GET', '/api/v1/identity/nothing', 403, 'application/problem+json', problem('x')))).toMatch(
      /no operation in the OpenAPI document/,
    );
  });

  it('matches content types on the type, whatever the parameters on either side', () => {
    expect(conformance.mismatch(answer('GET', '/metrics', 200, 'text/plain'))).toBeUndefined();
    expect(conformance.mismatch(answer('GET', '/metrics', 200, 'text/plain; version=0.0.4; charset=utf-8'))).toBeUndefined();
    expect(conformance.mismatch(answer('GET', '/metrics', 200, 'application/json', {}))).toMatch(/content type 'application\/json' not declared/);
  });

  it('holds the registry failures of admission, deployment, rollout and rollback to their declaration', () => {
    for (const [method, path] of [
      ['POST', '/api/v1/catalog/apps/sensor/versions'],
      ['POST', '/api/v1/admin/deployments'],
      ['POST', '/api/v1/admin/deployments/d/rollouts'],
      ['POST', '/api/v1/admin/deployments/d/rollbacks'],
    ] as const)
      for (const status of [502, 504])
        expect(conformance.mismatch(answer(method, path, status, 'application/problem+json', { ...problem('oci.timeout'), status }))).toBeUndefined();
    expect(conformance.mismatch(answer('POST', '/api/v1/admin/tokens', 502, 'application/problem+json', { ...problem('oci.timeout'), status: 502 }))).toMatch(
      /status not declared/,
    );
  });
});

describe('GET /api/v1/openapi.json and the reference page', () => {
  it('serves the document, cacheable with an ETag', async () => {
    const res = await app().request('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toMatch(/public/);
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
    const again = await app().request('/api/v1/openapi.json', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
  });

  it('serves the reference page with a strict Content-Security-Policy', async () => {
    const res = await app().request('/api/v1/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toBe(REFERENCE_PAGE_CSP);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/connect-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
  });
});
