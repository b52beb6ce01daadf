import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr } from '../../runtime/agent/enroll.js';
import { enroll } from '../../runtime/agent/enroll.js';
import { generateP256, x509 } from '../../trust/x509.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, startHarness, type Answer, type Harness } from './harness.js';

let h: Harness;
let work: string;
beforeAll(async () => {
  h = await startHarness();
  work = mkdtempSync(join(tmpdir(), 'berth-bad-'));
});
afterAll(async () => {
  await h?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Every refusal is a 4xx problem document whose code names the fault. */
function expectProblem(answer: Answer, status: number, code: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.headers['content-type']).toContain('application/problem+json');
  expect(answer.body).toMatchObject({ status, code, type: `urn:berth:problem:${code}` });
  expect(typeof answer.body.title).toBe('string');
}

const onboarding = (json: unknown, extra: { raw?: string; headers?: Record<string, string> } = {}) =>
  call(`${h.cp.url}/api/v1/onboarding`, {
    method: 'POST',
    ca: h.ca,
    ...(extra.raw !== undefined ? { raw: extra.raw } : { json }),
    headers: extra.headers ?? {},
  });

describe('bad input gets a 4xx problem naming it, never a 500', () => {
  it('malformed CSRs', async () => {
    const token = await h.enrollmentToken();
    expectProblem(await onboarding({ method: 'token', token, csr: 'not a csr' }), 422, 'csr.malformed');
    expectProblem(
      await onboarding({ method: 'token', token, csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIBAAAA\n-----END CERTIFICATE REQUEST-----\n' }),
      422,
      'csr.malformed',
    );
    const good = await createCsr(await generateP256());
    const der = Buffer.from(x509.PemConverter.decode(good)[0]!);
    der[der.length - 3] = der[der.length - 3]! ^ 0xff;
    const tampered = await onboarding({ method: 'token', token, csr: x509.PemConverter.encode(der, 'CERTIFICATE REQUEST') });
    expect(tampered.status).toBe(422);
    expect(String(tampered.body.code)).toMatch(/^csr\./);
    expect(tampered.body.errors[0].field).toBe('csr');
    // None of these used the token up.
    const ok = await onboarding({ method: 'token', token, csr: good });
    expect(ok.status).toBe(201);
  });

  it('a CSR whose SAN names another device, or a foreign trust domain', async () => {
    const bound = await h.enrollmentToken({ deviceId: 'bound-dev' });
    const keys = await generateP256();
    const other = await createCsr(keys, 'spiffe://fleet.test/device/someone-else');
    const answer = await onboarding({ method: 'token', token: bound, csr: other });
    expectProblem(answer, 422, 'csr.san_mismatch');
    expect(answer.body.detail).toContain('someone-else');
    expectProblem(await onboarding({ method: 'token', token: bound, csr: await createCsr(keys, 'spiffe://evil.test/device/bound-dev') }), 422, 'csr.bad_san');
    // Renewal whose CSR names another device.
    const t = await h.enrollmentToken({ deviceId: 'renewer' });
    const id = await enroll({ url: h.cp.url, ca: h.ca, dir: join(work, 'r'), credential: { kind: 'token', token: t } });
    const renewal = await call(`${h.cp.url}/api/v1/identity/renew`, {
      method: 'POST',
      ca: h.ca,
      key: id.keyPem,
      cert: id.certificatePem,
      json: { csr: await createCsr(await generateP256(), 'spiffe://fleet.test/device/press-7') },
    });
    expectProblem(renewal, 422, 'csr.san_mismatch');
  });

  it('oversized bodies', async () => {
    const big = JSON.stringify({ method: 'token', token: 'x'.repeat(20), csr: 'A'.repeat(200_000) });
    expectProblem(await onboarding(undefined, { raw: big, headers: { 'content-type': 'application/json' } }), 413, 'request.too_large');
    // Without Content-Length (chunked): still cut off at the limit.
    const chunked = await new Promise<Answer>((resolve, reject) => {
      import('node:https').then(({ request }) => {
        const req = request(
          `${h.cp.url}/api/v1/onboarding`,
          { method: 'POST', ca: h.ca, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (c: Buffer) => parts.push(c));
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(Buffer.concat(parts).toString()) }));
          },
        );
        req.on('error', reject);
        for (let i = 0; i < 20; i++) req.write('A'.repeat(10_000));
        req.end();
      }, reject);
    });
    expectProblem(chunked, 413, 'request.too_large');
  });

  it('NUL characters anywhere in a JSON body, and absurd nesting, are 422 naming where (PostgreSQL cannot store NUL)', async () => {
    const nulValue = await h.admin('POST', '/api/v1/admin/enrollment-tokens', { deviceId: 'ok-device', labels: { line: 'a\u0000b' } });
    expectProblem(nulValue, 422, 'request.invalid');
    expect(nulValue.body.errors).toEqual([{ field: 'labels.line', message: 'must not contain U+0000 (NUL)' }]);
    const nulKey = await h.admin('POST', '/api/v1/admin/enrollment-tokens', { labels: { ['k\u0000']: 'v' } });
    expectProblem(nulKey, 422, 'request.invalid');
    expect(nulKey.body.errors[0].field).toBe('labels.k\\u0000');
    let deep: unknown = 'x';
    for (let i = 0; i < 200; i++) deep = [deep];
    const nested = await h.admin('POST', '/api/v1/admin/enrollment-tokens', { labels: deep });
    expectProblem(nested, 422, 'request.invalid');
    expect(nested.body.errors).toEqual([{ field: 'body', message: 'must not nest deeper than 64 levels' }]);
  });

  it('garbage JSON and non-UTF-8', async () => {
    expectProblem(await onboarding(undefined, { raw: '{"method": "token", ', headers: { 'content-type': 'application/json' } }), 400, 'request.bad_json');
    expectProblem(await onboarding(undefined, { raw: '\u0000\u0001nope', headers: { 'content-type': 'application/json' } }), 400, 'request.bad_json');
    expectProblem(
      await call(`${h.cp.url}/api/v1/onboarding`, {
        method: 'POST',
        ca: h.ca,
        raw: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'request.bad_json',
    );
    expectProblem(await onboarding(undefined, { raw: '', headers: { 'content-type': 'application/json' } }), 400, 'request.bad_json');
  });

  it('wrong content types', async () => {
    expectProblem(
      await onboarding(undefined, { raw: 'method=token', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'request.unsupported_media_type',
    );
    expectProblem(await onboarding(undefined, { raw: '{}' }), 415, 'request.unsupported_media_type');
    expectProblem(await onboarding(undefined, { raw: '{}', headers: { 'content-type': 'text/plain' } }), 415, 'request.unsupported_media_type');
  });

  it('bodies that are JSON but not the schema: 422 with errors[] per field', async () => {
    const wrong = await onboarding({ method: 'token', csr: 5 });
    expectProblem(wrong, 422, 'request.invalid');
    expect(wrong.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['csr', 'token']);
    expectProblem(await onboarding({ method: 'telepathy', csr: 'x' }), 422, 'request.invalid');
    expectProblem(await onboarding([1, 2, 3]), 422, 'request.invalid');
    expectProblem(await onboarding({ method: 'token', token: 'x'.repeat(20), csr: 'x', extra: true }), 422, 'request.invalid');
    expectProblem(
      await onboarding({
        method: 'factory-certificate',
        csr: await createCsr(await generateP256()),
        factoryCertificates: ['garbage'],
        signature: 'A'.repeat(40),
      }),
      422,
      'onboarding.factory_certificate_malformed',
    );
  });

  it('bad tokens and unknown paths', async () => {
    expectProblem(await onboarding({ method: 'token', token: 'y'.repeat(43), csr: await createCsr(await generateP256()) }), 401, 'onboarding.token_unknown');
    expectProblem(await call(`${h.cp.url}/api/v1/admin/devices`, { ca: h.ca }), 401, 'auth.missing_token');
    expectProblem(await call(`${h.cp.url}/api/v1/admin/devices`, { ca: h.ca, headers: { authorization: 'Bearer ' + 'z'.repeat(43) } }), 401, 'auth.bad_token');
    expectProblem(await call(`${h.cp.url}/api/v1/admin/devices`, { ca: h.ca, headers: { authorization: 'Basic Zm9vOmJhcg==' } }), 401, 'auth.missing_token');
    expectProblem(await call(`${h.cp.url}/nope`, { ca: h.ca }), 404, 'request.not_found');
    expectProblem(await call(`${h.cp.url}/api/v1/onboarding/zzz`, { ca: h.ca }), 404, 'onboarding.unknown_request');
    expectProblem(await h.admin('POST', '/api/v1/admin/onboarding-requests/00000000000000000000000000000000/approve'), 404, 'onboarding.unknown_request');
    expectProblem(await h.admin('POST', '/api/v1/admin/device-revocations', { deviceId: 'ghost' }), 404, 'device.unknown');
  });

  it('operator roles: an operator token may not create tokens; bad roles and manufacturer certificates are refused', async () => {
    const created = await h.admin('POST', '/api/v1/admin/tokens', { name: 'ops', role: 'operator' });
    expect(created.status).toBe(201);
    const asOperator = (path: string, json: unknown) =>
      call(`${h.cp.url}${path}`, { method: 'POST', ca: h.ca, headers: { authorization: `Bearer ${created.body.token}` }, json });
    expectProblem(await asOperator('/api/v1/admin/tokens', { name: 'x', role: 'admin' }), 403, 'auth.forbidden');
    expect((await asOperator('/api/v1/admin/enrollment-tokens', { ttlSeconds: 60 })).status).toBe(201);
    const vendor = await h.admin('POST', '/api/v1/admin/tokens', { name: 'acme', role: 'vendor:acme' });
    expect(vendor.status).toBe(201);
    const asVendor = await call(`${h.cp.url}/api/v1/admin/enrollment-tokens`, {
      method: 'POST',
      ca: h.ca,
      headers: { authorization: `Bearer ${vendor.body.token}` },
      json: {},
    });
    expectProblem(asVendor, 403, 'auth.forbidden');
    expectProblem(await h.admin('POST', '/api/v1/admin/tokens', { name: 'x', role: 'root' }), 422, 'token.bad_role');
    const badId = await h.admin('POST', '/api/v1/admin/enrollment-tokens', { deviceId: '../etc' });
    expectProblem(badId, 422, 'token.bad_device_id');
    expect(badId.body.errors).toEqual([{ field: 'deviceId', message: expect.stringContaining('../etc') }]);
    expectProblem(await h.admin('POST', '/api/v1/admin/manufacturers', { name: 'm', certificate: 'nope' }), 422, 'manufacturer.bad_certificate');
    expectProblem(await h.admin('POST', '/api/v1/admin/ca/retirements', { fingerprint: 'a'.repeat(64) }), 409, 'pki.unknown_authority');
    expectProblem(await h.admin('POST', '/api/v1/admin/ca/rotations', { rootKeyPem: 'not a key' }), 422, 'key.bad_private_key');
    const { generateP256, privateKeyToPem } = await import('../../trust/x509.js');
    const stranger = await privateKeyToPem((await generateP256()).privateKey);
    // Bad input naming its field (rootKeyPem), like every admin PEM input: 422, not a conflict.
    expectProblem(await h.admin('POST', '/api/v1/admin/ca/rotations', { rootKeyPem: stranger }), 422, 'pki.wrong_root_key');
  });

  it('random bodies on every JSON endpoint get 4xx problems (bounded: 40 per endpoint)', async () => {
    // A small deterministic generator: the same cases on every run.
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const values = (): unknown[] => [null, true, 0, -1, 1e308, '', 'x'.repeat(Math.floor(rand() * 300)), [], {}, [1, 'a'], { csr: 1 }, '\u0000', 'é'];
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const keys = [
      'method',
      'csr',
      'token',
      'factoryCertificates',
      'signature',
      'deviceId',
      'labels',
      'ttlSeconds',
      'name',
      'role',
      'required',
      'fingerprint',
      '__proto__',
      'constructor',
    ];
    const body = (): string => {
      if (rand() < 0.3) return Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))).toString('latin1');
      const o: Record<string, unknown> = {};
      for (let i = 0; i < 1 + rand() * 4; i++) o[pick(keys)] = pick(values());
      if (rand() < 0.5) o.method = pick(['token', 'factory-certificate', 'x']);
      return JSON.stringify(o);
    };
    const endpoints = [
      '/api/v1/onboarding',
      '/api/v1/admin/enrollment-tokens',
      '/api/v1/admin/tokens',
      '/api/v1/admin/device-revocations',
      '/api/v1/admin/manufacturers',
      '/api/v1/admin/settings/onboarding-approval',
      '/api/v1/admin/ca/retirements',
    ];
    for (const path of endpoints) {
      for (let i = 0; i < 40; i++) {
        const raw = body();
        const method = path.endsWith('onboarding-approval') ? 'PUT' : 'POST';
        const answer = await call(`${h.cp.url}${path}`, {
          method,
          ca: h.ca,
          raw,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${h.adminToken}` },
        });
        expect(answer.status, `${path} ${raw}`).toBeGreaterThanOrEqual(400);
        expect(answer.status, `${path} ${raw}`).toBeLessThan(500);
        expect(answer.headers['content-type']).toContain('application/problem+json');
      }
    }
    // Nothing above changed a setting.
    expect(await (await import('../../orchestrator/onboarding/service.js')).approvalRequired(h.cp.deps.store)).toBe(false);
  });

  it('refuses TLS below 1.3 at the handshake', async () => {
    const { connect } = await import('node:tls');
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: h.cp.port, ca: h.ca, maxVersion: 'TLSv1.2', servername: 'localhost' });
      socket.once('secureConnect', () => (socket.destroy(), resolve('connected')));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(outcome).not.toBe('connected');
    expect(outcome).toMatch(/VERSION|PROTOCOL|ALERT/i);
  });

  it('never answered 500 and logged no unexpected error', () => {
    expect(h.logs.filter((l) => l.msg === 'unexpected error')).toEqual([]);
  });
});
