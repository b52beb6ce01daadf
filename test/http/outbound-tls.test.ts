import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGrants } from '../../host-apis/grants.js';
import type { OutboundRequest } from '../../host-apis/wasi/http-wire.js';
import { performOutbound } from '../../runtime/http/outbound.js';
import type { Lookup } from '../../runtime/http/resolve.js';
import { createTestCa, type TestCa } from '../support/registry-ca.js';

// Real TLS on 127.0.0.1: the connection is pinned to the checked address, and the certificate
// is still checked against the name the app asked for.
describe('outbound HTTPS', () => {
  let ca: TestCa;
  let server: https.Server;
  let port = 0;
  const lookup: Lookup = async (host) => {
    if (host === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
    throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  };

  beforeAll(async () => {
    ca = await createTestCa();
    const { certPem, keyPem } = await ca.issueServerCertificate(['localhost']);
    server = https.createServer({ cert: certPem, key: keyPem }, (_req, res) => res.end('secure hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (authority: string): OutboundRequest => ({ method: 'GET', scheme: 'https', authority, pathWithQuery: '/', headers: [], body: new Uint8Array(0) });

  it('verifies the server against the granted name and answers', async () => {
    const grant = parseGrants({ 'outbound-http': { allow: [`https://localhost:${port}`] } })['outbound-http']!;
    const r = await performOutbound(get(`localhost:${port}`), grant, { lookup, ca: ca.certPem });
    expect(r).toMatchObject({ ok: true, status: 200 });
    if (r.ok) expect(Buffer.from(r.body).toString()).toBe('secure hello');
  });

  it('fails with TLS-certificate-error for an untrusted issuer or a name the certificate does not hold', async () => {
    const byName = parseGrants({ 'outbound-http': { allow: [`https://localhost:${port}`] } })['outbound-http']!;
    expect(await performOutbound(get(`localhost:${port}`), byName, { lookup })).toMatchObject({ ok: false, error: { tag: 'TLS-certificate-error' } });
    const byIp = parseGrants({ 'outbound-http': { allow: [`https://127.0.0.1:${port}`] } })['outbound-http']!;
    expect(await performOutbound(get(`127.0.0.1:${port}`), byIp, { lookup, ca: ca.certPem })).toMatchObject({
      ok: false,
      error: { tag: 'TLS-certificate-error' },
    });
  });
});
