import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { enroll } from '../../runtime/agent/enroll.js';
import type { AppEnv } from '../../orchestrator/http/env.js';
import { RevocationList } from '../../trust/revocation/list.js';
import { issueWorkloadToken, type DeviceSigner } from '../../trust/workload/token.js';
import { importPrivateKeyPem, parseCertificates } from '../../trust/x509.js';
import { call, startHarness, type Harness } from '../orchestrator/harness.js';
import { suiteTempDir } from '../support/tmp.js';

// The list as relying parties meet it: a public HTTPS endpoint of a running control plane, and
// `berth identity verify --revocations` reading it from there or from a file.
const PATH = '/api/v1/identity/revocations';
let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness();
  dir = suiteTempDir('revocation-endpoint');
});
afterAll(async () => {
  await h?.stop();
});

async function onboard(deviceId: string): Promise<DeviceSigner> {
  const token = await h.enrollmentToken({ deviceId });
  const id = await enroll({ url: h.cp.url, ca: h.ca, dir: join(dir, deviceId), credential: { kind: 'token', token } });
  return { trustDomain: 'fleet.test', deviceId, privateKey: (await importPrivateKeyPem(id.keyPem)).privateKey, chain: parseCertificates(id.certificatePem) };
}

function berth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [join(projectRoot(), 'bin', 'berth.js'), ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

describe('GET /api/v1/identity/revocations', () => {
  it('is public, signed by the fleet CA, and cached by ETag: 304 until a revocation changes it', async () => {
    const first = await call(h.cp.url + PATH, { ca: h.ca });
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/x-pem-file');
    expect(first.headers['cache-control']).toBe('public, max-age=60');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const list = await RevocationList.load(first.body as string, { roots: h.cp.deps.authority.roots() });
    expect(String(list.number)).toBe(first.headers['x-berth-crl-number']);

    const same = await call(h.cp.url + PATH, { ca: h.ca, headers: { 'if-none-match': etag } });
    expect(same.status).toBe(304);
    expect(same.body).toBe('');
    expect(same.headers.etag).toBe(etag);
    expect((await call(h.cp.url + PATH, { ca: h.ca, headers: { 'if-none-match': `W/${etag}, "other"` } })).status).toBe(304);
    expect((await call(h.cp.url + PATH, { ca: h.ca, headers: { 'if-none-match': '"other"' } })).status).toBe(200);

    await onboard('etag-1');
    expect((await h.admin('POST', '/api/v1/admin/device-revocations', { deviceId: 'etag-1', reason: 'stolen' })).status).toBe(200);
    const changed = await call(h.cp.url + PATH, { ca: h.ca, headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(Number(changed.headers['x-berth-crl-number'])).toBe(list.number + 1);
  });

  it('opens nothing else under /api/v1/identity to callers without a device certificate', async () => {
    expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca })).status).toBe(401);
    expect((await call(`${h.cp.url}/api/v1/identity/renew`, { ca: h.ca, method: 'POST', json: { csr: 'x' } })).status).toBe(401);
    expect((await call(`${h.cp.url}${PATH}/extra`, { ca: h.ca })).status).toBe(401);
  });
});

describe('berth identity verify --revocations', () => {
  it("accepts a device's token until it is revoked, then refuses it with the list from the URL or a file", async () => {
    const bundle = join(dir, 'bundle.pem');
    writeFileSync(bundle, h.ca.join('\n'));
    const signer = await onboard('cli-revoked');
    const token = await issueWorkloadToken(signer, { vendor: 'acme', app: 'sensor', instance: 'i', audience: 'historian' });
    const verify = (revocations: string) =>
      berth(['identity', 'verify', token, '--audience', 'historian', '--bundle', bundle, '--trust-domain', 'fleet.test', '--revocations', revocations]);
    const url = h.cp.url + PATH;

    const before = await verify(url);
    expect(before.stderr).toBe('');
    expect(JSON.parse(before.stdout)).toMatchObject({ deviceId: 'cli-revoked', vendor: 'acme', app: 'sensor' });

    await h.admin('POST', '/api/v1/admin/device-revocations', { deviceId: 'cli-revoked', reason: 'stolen' });
    const after = await verify(url);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/workload token refused: device cli-revoked is revoked: its certificate [0-9a-f]+ is on CRL number \d+/);

    // Offline: the same list from a file.
    const file = join(dir, 'revocations.pem');
    writeFileSync(file, (await call(url, { ca: h.ca })).body as string);
    expect((await verify(file)).stderr).toMatch(/device cli-revoked is revoked/);

    // A list that is not the fleet's, a plain-HTTP URL and an unreadable file are refused by name.
    const forged = join(dir, 'forged.pem');
    writeFileSync(
      forged,
      ((await call(url, { ca: h.ca })).body as string).replace(
        /(-----BEGIN X509 CRL-----\n.{20})(.)/,
        (_m, a: string, c: string) => a + (c === 'A' ? 'B' : 'A'),
      ),
    );
    expect((await verify(forged)).stderr).toMatch(/revocation list refused/);
    expect((await verify(url.replace('https:', 'http:'))).stderr).toMatch(/only https:\/\/ URLs are accepted/);
    expect((await verify(join(dir, 'missing.pem'))).stderr).toMatch(/cannot read .*missing\.pem: ENOENT/);
    expect((await verify(`${h.cp.url}/api/v1/no-such-list`)).stderr).toMatch(/could not fetch the revocation list from .*: HTTP 404/);
  });
});

describe('the revocation route before the first list exists', () => {
  it('answers 503 with a retryable problem, not an empty or broken document', async () => {
    const { buildControlPlaneApp } = await import('../../orchestrator/app.js');
    const { revocationRoutes } = await import('../../orchestrator/routes/revocation-routes.js');
    const { silentLogger } = await import('../../common/logger.js');
    const empty = { query: async () => [{ crl_number: 0, issuers: [], this_update: null, next_update: null, document: null, etag: null }] } as never;
    const { Hono } = await import('hono');
    // The group alone, mounted where the URL tree (routes/index.ts) puts it.
    const app = buildControlPlaneApp({ logger: silentLogger } as never, [() => new Hono<AppEnv>().route(PATH, revocationRoutes({ store: empty }))]);
    const answer = await app.request(PATH);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ code: 'revocations.not_ready', retryable: true, retryAfterSeconds: 5 });
  });
});
