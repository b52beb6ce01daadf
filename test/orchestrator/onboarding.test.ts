import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, createIntermediateCa, issueDeviceCertificate } from '../../trust/authority.js';
import { generateP256, privateKeyToPem, x509, ECDSA_SHA256, randomSerial } from '../../trust/x509.js';
import { enroll } from '../../runtime/agent/enroll.js';
import { renew, renewalDueAt } from '../../runtime/agent/renewal.js';
import { identityPaths, loadIdentity } from '../../runtime/agent/identity-files.js';
import { call, startHarness, type Harness } from './harness.js';
import { manufacturer } from '../support/manufacturer.js';

let h: Harness;
let work: string;
beforeAll(async () => {
  h = await startHarness();
  work = mkdtempSync(join(tmpdir(), 'berth-dev-'));
});
afterAll(async () => {
  await h?.stop();
  rmSync(work, { recursive: true, force: true });
});
let n = 0;
const deviceDir = () => join(work, `d${n++}`);

describe('onboarding over real TLS', () => {
  it('onboards by enrollment token, binds id and labels, stores key 0600, and the certificate works for mTLS', async () => {
    const token = await h.enrollmentToken({ deviceId: 'press-7', labels: { line: '3' } });
    const dir = deviceDir();
    const id = await enroll({ url: h.cp.url, ca: h.ca, dir, credential: { kind: 'token', token } });
    expect(id.deviceId).toBe('press-7');
    for (const file of [identityPaths(dir).key, identityPaths(dir).meta, identityPaths(dir).certificate]) expect(statSync(file).mode & 0o777, file).toBe(0o600);
    const me = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: id.keyPem, cert: id.certificatePem });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ deviceId: 'press-7', spiffeId: 'spiffe://fleet.test/device/press-7' });
    const devices = await h.admin('GET', '/api/v1/admin/devices');
    expect(devices.body.devices.find((d: { id: string }) => d.id === 'press-7')).toMatchObject({ status: 'active', labels: { line: '3' } });
    expect(h.events('onboarding.accepted').some((e) => e.deviceId === 'press-7')).toBe(true);
  });

  it('keeps only the SHA-256 of operator and enrollment token secrets in the store', async () => {
    const operator = await h.admin('POST', '/api/v1/admin/tokens', { name: 'hash check', role: 'operator' });
    expect(operator.status).toBe(201);
    const enrollment = await h.enrollmentToken();
    for (const [table, secret] of [
      ['operator_tokens', operator.body.token as string],
      ['enrollment_tokens', enrollment],
    ] as const) {
      const rows = await h.cp.deps.store.query<{ row: string; secret_sha256: string }>(`SELECT row_to_json(t)::text AS row, secret_sha256 FROM ${table} t`);
      // No column of any row holds a secret; the row for this one holds its hash.
      expect(rows.some((r) => r.row.includes(secret))).toBe(false);
      expect(rows.map((r) => r.secret_sha256)).toContain(createHash('sha256').update(secret).digest('hex'));
    }
  });

  it('refuses a reused token and an expired token, logging each', async () => {
    const token = await h.enrollmentToken();
    await enroll({ url: h.cp.url, ca: h.ca, dir: deviceDir(), credential: { kind: 'token', token } });
    await expect(enroll({ url: h.cp.url, ca: h.ca, dir: deviceDir(), credential: { kind: 'token', token } })).rejects.toMatchObject({
      code: 'onboarding.token_used',
    });
    const expired = await h.enrollmentToken({ ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    await expect(enroll({ url: h.cp.url, ca: h.ca, dir: deviceDir(), credential: { kind: 'token', token: expired } })).rejects.toMatchObject({
      code: 'onboarding.token_expired',
    });
    const reasons = h.events('onboarding.refused').map((e) => e.reason);
    expect(reasons).toContain('token_used');
    expect(reasons).toContain('token_expired');
  });

  it('refuses a second key claiming an existing device id, as a security event, without using up the token', async () => {
    const first = await h.enrollmentToken({ deviceId: 'dup-1' });
    await enroll({ url: h.cp.url, ca: h.ca, dir: deviceDir(), credential: { kind: 'token', token: first } });
    const second = await h.enrollmentToken({ deviceId: 'dup-1' });
    await expect(enroll({ url: h.cp.url, ca: h.ca, dir: deviceDir(), credential: { kind: 'token', token: second } })).rejects.toMatchObject({
      code: 'onboarding.duplicate_id',
    });
    expect(h.events('onboarding.duplicate_id').length).toBeGreaterThan(0);
    // An unbound token naming the same id through the CSR's SAN is refused the same way.
    const unbound = await h.enrollmentToken();
    await expect(
      enroll({ url: h.cp.url, ca: h.ca, dir: deviceDir(), deviceId: 'dup-1', trustDomain: 'fleet.test', credential: { kind: 'token', token: unbound } }),
    ).rejects.toMatchObject({ code: 'onboarding.duplicate_id' });
    // The refusal rolled back: the unbound token still works for a fresh id.
    const ok = await enroll({
      url: h.cp.url,
      ca: h.ca,
      dir: deviceDir(),
      deviceId: 'fresh-1',
      trustDomain: 'fleet.test',
      credential: { kind: 'token', token: unbound },
    });
    expect(ok.deviceId).toBe('fresh-1');
  });

  it('onboards by factory certificate with a derived id; again is idempotent; another IDevID with the same serial is a duplicate', async () => {
    const acme = await manufacturer('acme');
    const added = await h.admin('POST', '/api/v1/admin/manufacturers', { name: 'acme', certificate: acme.ca.toString('pem') });
    expect(added.status).toBe(201);
    const idevid = await acme.idevid('SN-0001');
    const dir = deviceDir();
    const first = await enroll({ url: h.cp.url, ca: h.ca, dir, credential: { kind: 'factory-certificate', ...idevid, macAddresses: ['00:11:22:33:44:55'] } });
    const expectedId = Buffer.from(await crypto.subtle.digest('SHA-256', idevid.cert.rawData)).toString('hex');
    expect(first.deviceId).toBe(expectedId);
    // Factory reset: a new device key, the same factory identity: same id, new certificate.
    const again = await enroll({ url: h.cp.url, ca: h.ca, dir: deviceDir(), credential: { kind: 'factory-certificate', ...idevid } });
    expect(again.deviceId).toBe(expectedId);
    expect(h.events('onboarding.reonboarded').some((e) => e.deviceId === expectedId)).toBe(true);
    // A different IDevID carrying the same manufacturer serial is another key claiming that device.
    const clone = await acme.idevid('SN-0001');
    await expect(enroll({ url: h.cp.url, ca: h.ca, dir: deviceDir(), credential: { kind: 'factory-certificate', ...clone } })).rejects.toMatchObject({
      code: 'onboarding.duplicate_id',
    });
    // Another MAC claim for the known MAC is the same conflict.
    const other = await acme.idevid('SN-0002');
    await expect(
      enroll({ url: h.cp.url, ca: h.ca, dir: deviceDir(), credential: { kind: 'factory-certificate', ...other, macAddresses: ['00:11:22:33:44:55'] } }),
    ).rejects.toMatchObject({ code: 'onboarding.duplicate_id' });
    // An IDevID from a manufacturer the operator does not trust, and a signature by the wrong key.
    const rogue = await manufacturer('rogue');
    await expect(
      enroll({ url: h.cp.url, ca: h.ca, dir: deviceDir(), credential: { kind: 'factory-certificate', ...(await rogue.idevid('X')) } }),
    ).rejects.toMatchObject({ code: 'onboarding.factory_untrusted' });
    const wrongKey = { ...(await acme.idevid('SN-0003')), keyPem: await privateKeyToPem((await generateP256()).privateKey) };
    await expect(enroll({ url: h.cp.url, ca: h.ca, dir: deviceDir(), credential: { kind: 'factory-certificate', ...wrongKey } })).rejects.toMatchObject({
      code: 'onboarding.factory_bad_signature',
    });
  });

  it('answers pending with Retry-After until an operator approves; a denied device stops', async () => {
    await h.admin('PUT', '/api/v1/admin/settings/onboarding-approval', { required: true });
    try {
      const token = await h.enrollmentToken({ deviceId: 'needs-ok' });
      let polls = 0;
      const enrolled = enroll({
        url: h.cp.url,
        ca: h.ca,
        dir: deviceDir(),
        credential: { kind: 'token', token },
        maxWaitMs: 60_000,
        // Instead of sleeping, the "operator" acts on the second poll.
        sleep: async (ms) => {
          expect(ms).toBe(5000);
          polls++;
          if (polls === 2) {
            const list = await h.admin('GET', '/api/v1/admin/onboarding-requests');
            const req = list.body.requests.find((r: { deviceId: string }) => r.deviceId === 'needs-ok');
            expect((await h.admin('POST', `/api/v1/admin/onboarding-requests/${req.id}/approve`)).status).toBe(200);
          }
        },
      });
      const id = await enrolled;
      expect(id.deviceId).toBe('needs-ok');
      expect(polls).toBe(2);
      const me = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: id.keyPem, cert: id.certificatePem });
      expect(me.status).toBe(200);

      const token2 = await h.enrollmentToken({ deviceId: 'not-ok' });
      const denied = enroll({
        url: h.cp.url,
        ca: h.ca,
        dir: deviceDir(),
        credential: { kind: 'token', token: token2 },
        sleep: async () => {
          const list = await h.admin('GET', '/api/v1/admin/onboarding-requests');
          const req = list.body.requests.find((r: { deviceId: string }) => r.deviceId === 'not-ok');
          if (req) await h.admin('POST', `/api/v1/admin/onboarding-requests/${req.id}/deny`);
        },
      });
      await expect(denied).rejects.toMatchObject({ code: 'onboarding.denied' });
      expect(h.events('onboarding.denied').some((e) => e.deviceId === 'not-ok')).toBe(true);
    } finally {
      await h.admin('PUT', '/api/v1/admin/settings/onboarding-approval', { required: false });
    }
  });

  it('the pending answer itself is 202 with Retry-After and a poll URI', async () => {
    await h.admin('PUT', '/api/v1/admin/settings/onboarding-approval', { required: true });
    try {
      const token = await h.enrollmentToken();
      const keys = await generateP256();
      const { createCsr } = await import('../../runtime/agent/enroll.js');
      const answer = await call(`${h.cp.url}/api/v1/onboarding`, { method: 'POST', ca: h.ca, json: { method: 'token', token, csr: await createCsr(keys) } });
      expect(answer.status).toBe(202);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.body).toMatchObject({ status: 'pending', retryAfterSeconds: 5 });
      const poll = await call(answer.body.pollUri, { ca: h.ca });
      expect(poll.status).toBe(202);
    } finally {
      await h.admin('PUT', '/api/v1/admin/settings/onboarding-approval', { required: false });
    }
  });

  it("refuses a client certificate from another CA with 401, logging Node's authorizationError", async () => {
    const otherRoot = await createRootCa('fleet.test');
    const otherIssuing = await createIntermediateCa(otherRoot, 'fleet.test');
    const keys = await generateP256();
    const forged = await issueDeviceCertificate(otherIssuing, 'fleet.test', 'press-7', keys.publicKey, { lifetimeMs: 3_600_000 });
    const answer = await call(`${h.cp.url}/api/v1/identity`, {
      ca: h.ca,
      key: await privateKeyToPem(keys.privateKey),
      cert: forged.toString('pem') + '\n' + otherIssuing.certificate.toString('pem'),
    });
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ code: 'tls.untrusted_client_certificate', status: 401 });
    const refused = h.events('tls.client_certificate_refused');
    expect(refused.length).toBeGreaterThan(0);
    expect(String(refused.at(-1)!.authorizationError)).toMatch(/[A-Z_]{6,}/);
    // No certificate at all: 401 as well.
    const bare = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca });
    expect(bare.body).toMatchObject({ status: 401, code: 'tls.no_client_certificate' });
  });

  it('renews over mTLS with a new key and the same id; the old certificate stops once the new one is used', async () => {
    const token = await h.enrollmentToken({ deviceId: 'renew-me' });
    const dir = deviceDir();
    const id = await enroll({ url: h.cp.url, ca: h.ca, dir, credential: { kind: 'token', token } });
    expect(renewalDueAt(id, 0.5).getTime()).toBeGreaterThan(id.notBefore.getTime());
    const renewed = await renew(id, { url: h.cp.url, ca: h.ca, dir });
    expect(renewed.deviceId).toBe('renew-me');
    expect(renewed.keyPem).not.toBe(id.keyPem);
    expect((await loadIdentity(dir))?.certificatePem).toBe(renewed.certificatePem);
    // The renewed key and certificate replaced the old files, still owner-only.
    for (const file of [identityPaths(dir).key, identityPaths(dir).meta, identityPaths(dir).certificate]) expect(statSync(file).mode & 0o777, file).toBe(0o600);
    expect(h.events('device.renewed').some((e) => e.deviceId === 'renew-me')).toBe(true);
    // Until the new certificate is used the old one still works (a lost answer must not strand the device).
    expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: id.keyPem, cert: id.certificatePem })).status).toBe(200);
    expect((await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: renewed.keyPem, cert: renewed.certificatePem })).status).toBe(200);
    const old = await call(`${h.cp.url}/api/v1/identity`, { ca: h.ca, key: id.keyPem, cert: id.certificatePem });
    expect(old.body).toMatchObject({ status: 403, code: 'device.certificate_superseded' });
  });

  it('serves /.well-known/margo and the SPIFFE bundle', async () => {
    const wk = await call(`${h.cp.url}/.well-known/margo`, { ca: h.ca });
    expect(wk.body).toEqual({ trustDomain: 'fleet.test', trustBundleUri: `${h.cp.url}/api/v1/trust-bundle` });
    const bundle = await call(wk.body.trustBundleUri, { ca: h.ca });
    expect(bundle.body.spiffe_sequence).toBeGreaterThanOrEqual(1);
    expect(bundle.body.keys[0]).toMatchObject({ use: 'x509-svid', kty: 'EC', crv: 'P-256' });
  });
});
