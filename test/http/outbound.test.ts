import { describe, expect, it } from 'vitest';
import { parseGrants } from '../../host-apis/grants.js';
import type { OutboundRequest } from '../../host-apis/wasi/http-wire.js';
import { isInternalAddress } from '../../runtime/http/addresses.js';
import { performOutbound } from '../../runtime/http/outbound.js';
import type { Lookup } from '../../runtime/http/resolve.js';
import { loopbackServer } from './servers.js';

const server = loopbackServer({
  '/hello': (req, res, body) => res.writeHead(200, { 'content-type': 'text/plain', 'x-method': req.method! }).end(`hello ${body.toString()}`),
  '/redirect': (_req, res) => res.writeHead(302, { location: 'http://elsewhere.test/' }).end(),
  '/big': (_req, res) => res.writeHead(200).end(Buffer.alloc(4096, 0x61)),
  '/stream-big': (_req, res) => {
    res.writeHead(200); // no content-length: the limit applies while reading
    for (let i = 0; i < 8; i++) res.write(Buffer.alloc(1024, 0x62));
    res.end();
  },
  '/hang': () => {},
  '/headers': (_req, res) => res.writeHead(200, { 'x-huge': 'h'.repeat(40_000) }).end(),
});

// Names that resolve locally, as a rebinding resolver would answer.
const lookup: Lookup = async (host) => {
  if (host === 'rebind.test' || host === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  if (host === 'mixed.test')
    return [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
  throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
};

const grantFor = (allow: string[], extra: Record<string, number> = {}) => parseGrants({ 'outbound-http': { allow, ...extra } })['outbound-http']!;
const get = (authority: string, path = '/hello', scheme: 'http' | 'https' = 'http', more: Partial<OutboundRequest> = {}): OutboundRequest => ({
  method: 'GET',
  scheme,
  authority,
  pathWithQuery: path,
  headers: [],
  body: new Uint8Array(0),
  ...more,
});

describe('outbound HTTP on the main thread', () => {
  const ip = () => `127.0.0.1:${server.port}`;

  it('sends an allowed request and returns status, headers and body', async () => {
    const refused: string[] = [];
    const r = await performOutbound(
      get(ip(), '/hello', 'http', { method: 'POST', body: new TextEncoder().encode('there') }),
      grantFor([`http://127.0.0.1:${server.port}`]),
      { lookup, onRefused: (o) => refused.push(o) },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.status).toBe(200);
    expect(Buffer.from(r.body).toString()).toBe('hello there');
    expect(r.headers.find(([n]) => n === 'x-method')?.[1]).toEqual(Buffer.from('POST'));
    expect(refused).toEqual([]);
  });

  it('refuses an origin not granted, by host, port and scheme, before connecting', async () => {
    const before = server.hits.length;
    const refused: string[] = [];
    const onRefused = (o: string) => refused.push(o);
    const byHost = await performOutbound(get(`127.0.0.2:${server.port}`), grantFor([`http://127.0.0.1:${server.port}`]), { lookup, onRefused });
    const byPort = await performOutbound(get(ip()), grantFor([`http://127.0.0.1:${server.port + 1}`]), { lookup, onRefused });
    const byScheme = await performOutbound(get(ip(), '/hello', 'https'), grantFor([`http://127.0.0.1:${server.port}`]), { lookup, onRefused });
    for (const r of [byHost, byPort, byScheme]) expect(r).toMatchObject({ ok: false, error: { tag: 'HTTP-request-denied' } });
    expect(refused).toHaveLength(3);
    expect(server.hits.length).toBe(before);
  });

  it('refuses an IP when only a name is granted (the check is on the host as written)', async () => {
    const r = await performOutbound(get(ip()), grantFor([`http://localhost:${server.port}`]), { lookup });
    expect(r).toMatchObject({ ok: false, error: { tag: 'HTTP-request-denied' } });
  });

  it('allows localhost when granted by that name, to loopback only', async () => {
    const r = await performOutbound(get(`localhost:${server.port}`), grantFor([`http://localhost:${server.port}`]), { lookup });
    expect(r).toMatchObject({ ok: true, status: 200 });
  });

  it('refuses a granted name that resolves to an internal address (rebinding)', async () => {
    const before = server.hits.length;
    const refused: string[] = [];
    for (const host of ['rebind.test', 'mixed.test']) {
      const r = await performOutbound(get(`${host}:${server.port}`), grantFor([`http://*.test:${server.port}`]), { lookup, onRefused: (o) => refused.push(o) });
      expect(r).toMatchObject({ ok: false, error: { tag: 'destination-IP-prohibited' } });
    }
    expect(refused).toEqual([`http://rebind.test:${server.port}`, `http://mixed.test:${server.port}`]);
    expect(server.hits.length).toBe(before);
  });

  it('returns a redirect as it is, without following it', async () => {
    const r = await performOutbound(get(ip(), '/redirect'), grantFor([`http://127.0.0.1:*`]), { lookup });
    expect(r).toMatchObject({ ok: true, status: 302 });
    if (r.ok) expect(Buffer.from(r.headers.find(([n]) => n === 'location')![1]).toString()).toBe('http://elsewhere.test/');
  });

  it('ends a response over the size limit with an error code, declared or streamed', async () => {
    const grant = grantFor([`http://127.0.0.1:*`], { maxResponseBytes: 2048 });
    for (const path of ['/big', '/stream-big']) {
      const r = await performOutbound(get(ip(), path), grant, { lookup });
      expect(r).toMatchObject({ ok: false, error: { tag: 'HTTP-response-body-size', val: 2048n } });
    }
  });

  it('ends oversized response headers with an error code', async () => {
    const r = await performOutbound(get(ip(), '/headers'), grantFor([`http://127.0.0.1:*`]), { lookup });
    expect(r).toMatchObject({ ok: false, error: { tag: 'HTTP-response-header-size' } });
  });

  it('ends a hanging server at the grant time limit, and at the first-byte timeout', async () => {
    const total = await performOutbound(get(ip(), '/hang'), grantFor([`http://127.0.0.1:*`], { timeoutMs: 300 }), { lookup });
    expect(total).toMatchObject({ ok: false, error: { tag: 'HTTP-response-timeout' } });
    const firstByte = await performOutbound(get(ip(), '/hang', 'http', { firstByteTimeoutMs: 100 }), grantFor([`http://127.0.0.1:*`]), { lookup });
    expect(firstByte).toMatchObject({ ok: false, error: { tag: 'HTTP-response-timeout' } });
  });

  it('refuses a request body over the limit without sending it', async () => {
    const before = server.hits.length;
    const r = await performOutbound(
      get(ip(), '/hello', 'http', { method: 'POST', body: new Uint8Array(100) }),
      grantFor([`http://127.0.0.1:*`], { maxRequestBytes: 10 }),
      { lookup },
    );
    expect(r).toMatchObject({ ok: false, error: { tag: 'HTTP-request-body-size' } });
    expect(server.hits.length).toBe(before);
  });

  it('answers malformed data from the app with an error code, never a throw', async () => {
    const grant = grantFor([`http://127.0.0.1:*`]);
    const bad = [
      get(ip(), 'no-slash'),
      get(ip(), '/x', 'http', { method: 'GET /evil HTTP/1.1\r\n' }),
      get(`user@127.0.0.1:${server.port}`),
      { ...get(ip()), body: 'text' as unknown as Uint8Array },
      null as unknown as OutboundRequest,
    ];
    for (const request of bad) expect((await performOutbound(request, grant, { lookup })).ok).toBe(false);
  });

  it('reports a refused connection and an unknown name', async () => {
    const closed = await performOutbound(get('127.0.0.1:1'), grantFor(['http://127.0.0.1:1']), { lookup });
    expect(closed).toMatchObject({ ok: false, error: { tag: 'connection-refused' } });
    const unknown = await performOutbound(get('nowhere.test:80'), grantFor(['http://*.test:80']), { lookup });
    expect(unknown).toMatchObject({ ok: false, error: { tag: 'DNS-error' } });
  });

  it('classifies internal addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
    ]) {
      expect(isInternalAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) expect(isInternalAddress(a), a).toBe(false);
  });
});
