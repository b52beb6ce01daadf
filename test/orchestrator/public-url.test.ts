import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { startControlPlane } from '../../orchestrator/control-plane.js';
import { createCsr } from '../../runtime/agent/enroll.js';
import { generateP256 } from '../../trust/x509.js';
import { request } from 'node:https';
import { startHarness, type Answer, type Harness } from './harness.js';

/**
 * URLs the control plane hands out come from its configured public URL, never from the Host
 * header a client sent: a forged Host must not redirect a device's trust bootstrap or polling
 * (issue #12, defect 6).
 */
const FORGED = { host: 'evil.example:666' };

/**
 * One HTTPS request carrying a forged Host header. Node checks the server's name against the
 * Host header, so the certificate is checked against the CA only (its name is not the point).
 */
function call(url: string, o: { method?: string; ca: string[]; headers: Record<string, string>; json?: unknown }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = o.json === undefined ? undefined : JSON.stringify(o.json);
    const headers = { ...o.headers, ...(body ? { 'content-type': 'application/json' } : {}) };
    const req = request(url, { method: o.method ?? 'GET', ca: o.ca, headers, agent: false, checkServerIdentity: () => undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
const PUBLIC = 'https://cp.fleet.example:9443/berth';

describe("without a configured public URL: the listener's own URL", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('/.well-known/margo names the trust bundle at the listener, whatever the Host header says', async () => {
    const answer = await call(`${h.cp.url}/.well-known/margo`, { ca: h.ca, headers: FORGED });
    expect(answer.status).toBe(200);
    expect(answer.body.trustBundleUri).toBe(`${h.cp.url}/api/v1/trust-bundle`);
  });

  it('an issued identity names the trust bundle at the listener', async () => {
    const token = await h.enrollmentToken();
    const answer = await call(`${h.cp.url}/api/v1/onboarding`, {
      method: 'POST',
      ca: h.ca,
      headers: FORGED,
      json: { method: 'token', token, csr: await createCsr(await generateP256()) },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body.trustBundleUri).toBe(`${h.cp.url}/api/v1/trust-bundle`);
  });
});

describe('with a configured public URL', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ publicUrl: `${PUBLIC}/`, requireApproval: true });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("the trust bundle URI, a pending onboarding's poll URI and its Location are under it", async () => {
    const margo = await call(`${h.cp.url}/.well-known/margo`, { ca: h.ca, headers: FORGED });
    expect(margo.body.trustBundleUri).toBe(`${PUBLIC}/api/v1/trust-bundle`);
    const token = await h.enrollmentToken();
    const pending = await call(`${h.cp.url}/api/v1/onboarding`, {
      method: 'POST',
      ca: h.ca,
      headers: FORGED,
      json: { method: 'token', token, csr: await createCsr(await generateP256()) },
    });
    expect(pending.status, JSON.stringify(pending.body)).toBe(202);
    expect(pending.body.pollUri).toBe(`${PUBLIC}/api/v1/onboarding/${pending.body.requestId}`);
    expect(pending.headers.location).toBe(pending.body.pollUri);
    const polled = await call(`${h.cp.url}/api/v1/onboarding/${pending.body.requestId}`, { ca: h.ca, headers: FORGED });
    expect(polled.body.pollUri).toBe(`${PUBLIC}/api/v1/onboarding/${pending.body.requestId}`);
    expect(h.cp.deps.publicUrl).toBe(PUBLIC);
  });
});

it('a public URL that is not https://host[:port][/path] is refused at start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-public-url-'));
  try {
    for (const bad of ['http://cp.example', 'cp.example', 'https://user:pw@cp.example', 'https://cp.example/?x=1']) {
      await expect(startControlPlane({ dataDir: dir, logger: silentLogger, publicUrl: bad, adminSocket: false })).rejects.toMatchObject({
        code: 'config.bad_public_url',
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
