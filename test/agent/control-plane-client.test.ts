import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlaneClient } from '../../runtime/agent/control-plane-client.js';
import { enroll } from '../../runtime/agent/enroll.js';
import type { DeviceIdentity } from '../../runtime/agent/identity-files.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { createRootCa, issueServerCertificate } from '../../trust/authority.js';
import { privateKeyToPem } from '../../trust/x509.js';
import { suiteTempDir } from '../support/tmp.js';

// The agent's channel keeps its mTLS connection alive between requests of one identity.
let h: Harness;
const dir = suiteTempDir('cp-client');
const handshakes = () => {
  let n = 0;
  h.cp.server.server.on('secureConnection', () => n++);
  return () => n;
};

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.stop());

async function onboard(id: string): Promise<DeviceIdentity> {
  const token = await h.enrollmentToken({ deviceId: id });
  return enroll({ url: h.cp.url, ca: h.ca, dir: join(dir, id), credential: { kind: 'token', token } });
}

describe('control-plane client', () => {
  it("sends one identity's requests over one kept-alive connection, and a new identity over a new one", async () => {
    const first = await onboard('pool-1');
    const second = await onboard('pool-2');
    let identity = first;
    const client = new ControlPlaneClient(h.cp.url, () => ({ identity, ca: h.ca }));
    const count = handshakes();
    try {
      for (let i = 0; i < 3; i++) {
        const answer = await client.request('/api/v1/identity');
        expect(JSON.parse(answer.bytes.toString('utf8'))).toMatchObject({ deviceId: 'pool-1' });
      }
      expect(count()).toBe(1);
      // A renewal or a rotated bundle: the next request presents the new certificate.
      identity = second;
      const answer = await client.request('/api/v1/identity');
      expect(JSON.parse(answer.bytes.toString('utf8'))).toMatchObject({ deviceId: 'pool-2' });
      expect(answer.identity).toBe(second);
      expect(count()).toBe(2);
    } finally {
      client.close();
    }
  });
});

describe('control-plane client: a kept-alive connection closed under a request', () => {
  let server: Server;
  let url: string;
  let ca: string;
  const connections: number[] = [];
  beforeAll(async () => {
    // A stand-in control plane: its certificate names the control plane's SPIFFE ID, as the agent requires.
    const testCa = await createRootCa('fleet.test');
    ca = testCa.certificate.toString('pem');
    const issued = await issueServerCertificate(testCa, 'fleet.test', ['127.0.0.1'], { lifetimeMs: 3_600_000 });
    const tls = { keyPem: await privateKeyToPem(issued.keys.privateKey), certPem: issued.certificate.toString('pem') };
    // The second request on any connection finds it closed (what a keep-alive timer firing
    // before the server read the request looks like to the client); requests on new connections are answered.
    const seen = new WeakMap<object, number>();
    server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
      const n = (seen.get(req.socket) ?? 0) + 1;
      seen.set(req.socket, n);
      if (n === 1) connections.push(1);
      req.resume();
      req.on('end', () => {
        if (n > 1) req.socket.destroy();
        else res.end(JSON.stringify({ path: req.url }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('sends an idempotent request again on a new connection, and never a plain POST', async () => {
    const identity = await onboard('pool-3');
    const client = new ControlPlaneClient(url, () => ({ identity, ca }));
    try {
      expect((await client.request('/one')).status).toBe(200);
      const again = await client.request('/two');
      expect(JSON.parse(again.bytes.toString('utf8'))).toEqual({ path: '/two' });
      expect(connections).toHaveLength(2);
      // A status report says it is an upsert: sent again too.
      expect((await client.request('/three')).status).toBe(200);
      const report = await client.request('/report', { method: 'POST', json: {}, idempotent: true });
      expect(JSON.parse(report.bytes.toString('utf8'))).toEqual({ path: '/report' });
      expect(connections).toHaveLength(4);
      // A POST that does not say so is never sent twice: the caller hears the failure.
      expect((await client.request('/five')).status).toBe(200);
      await expect(client.request('/six', { method: 'POST', json: {} })).rejects.toThrow('socket hang up');
      expect(connections).toHaveLength(5);
    } finally {
      client.close();
    }
  });
});
