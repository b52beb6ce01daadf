import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpGateway } from '../../runtime/gateway/gateway.js';
import { serveSupervisedApp } from '../../runtime/gateway/supervised.js';
import { Runtime } from '../../runtime/runtime.js';
import type { AppSupervisor } from '../../runtime/supervisor.js';
import { fixturePath } from '../fixtures/build.js';
import { waitFor } from '../support/app-logs.js';
import { suiteTempDir } from '../support/tmp.js';

/** Sends raw bytes and returns the status line the gateway answers with. */
function rawStatus(port: number, request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (d) => {
      data += d.toString('latin1');
      if (data.includes('\r\n')) socket.destroy();
    });
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

describe('the device gateway serving apps on route prefixes', () => {
  const dataDir = suiteTempDir('gateway');
  let runtime: Runtime;
  let gateway: HttpGateway;
  let port: number;
  let a: AppSupervisor;
  let b: AppSupervisor;
  let g: AppSupervisor;
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;
  const text = async (path: string, init?: RequestInit) => {
    const res = await fetch(url(path), init);
    return { status: res.status, body: await res.text(), app: res.headers.get('x-app') };
  };

  beforeAll(async () => {
    runtime = new Runtime({ dataDir, backoff: { initialMs: 50, maxMs: 200, factor: 2, resetAfterMs: 60_000 } });
    const server = readFileSync(fixturePath('http-server'));
    const start = (app: string, route: string, tier: 'worker' | 'instance' = 'worker') =>
      runtime.startApp(server, {
        tier,
        vendor: 'acme',
        app,
        grants: { 'inbound-http': { route, maxRequestBytes: 64 * 1024, maxResponseBytes: 1024 * 1024, timeoutMs: 10_000 }, clocks: {} },
        limits: { cpuDeadlineMs: 1_500 },
      });
    [a, b, g] = await Promise.all([start('alpha', '/a'), start('beta', '/b'), start('gamma', '/g', 'instance')]);
    gateway = new HttpGateway({ maxHeaderBytes: 8 * 1024 });
    serveSupervisedApp(gateway, a);
    serveSupervisedApp(gateway, b);
    serveSupervisedApp(gateway, g);
    port = await gateway.listen();
  });
  afterAll(async () => {
    await gateway?.close();
    await runtime?.close();
  });

  it('routes each prefix to its app, passing method, path, query and body', async () => {
    expect(await text('/a/echo?x=1', { method: 'POST', body: 'ping' })).toEqual({ status: 200, body: 'POST /a/echo?x=1 ping', app: 'http-server' });
    expect(await text('/b/hello')).toMatchObject({ status: 200, body: 'GET /b/hello ' });
    expect(await text('/b')).toMatchObject({ status: 200, body: 'GET /b ' });
  });

  it('serves an app in the instance tier through the same adapter, traps included', async () => {
    expect(await text('/g/echo', { method: 'PUT', body: 'shared thread' })).toMatchObject({ status: 200, body: 'PUT /g/echo shared thread' });
    const restarts = g.status().restarts;
    expect((await text('/g/trap')).status).toBe(502);
    await waitFor(() => g.status().restarts > restarts && g.status().state === 'running', 10_000, 'gamma restarted');
    expect(await text('/g/again')).toMatchObject({ status: 200, body: 'GET /g/again ' });
  });

  it('answers 503 while an app is not running', async () => {
    await g.stop();
    expect((await text('/g/echo')).status).toBe(503);
    expect((await text('/a/echo')).status).toBe(200);
  });

  it('answers 404 for a path no app is served at, on segment boundaries', async () => {
    for (const path of ['/c', '/ab', '/', '/bb/x']) expect((await text(path)).status, path).toBe(404);
  });

  it('refuses overlapping prefixes at registration', () => {
    expect(() => serveSupervisedApp(gateway, { spec: { identity: { vendor: 'v', app: 'no-route' }, grants: {} } } as unknown as AppSupervisor)).toThrow(
      /no inbound-http grant/,
    );
    const target = { name: 'x', maxRequestBytes: 1, maxResponseBytes: 1, timeoutMs: 1, invoke: async () => ({ ok: true as const, value: undefined }) };
    for (const route of ['/a', '/a/x', '/', '/b/']) expect(() => gateway.addApp({ ...target, route }), route).toThrow(/overlaps/);
    expect(() => gateway.addApp({ ...target, route: '/a/../c' })).toThrow(/segments/);
  });

  it('cuts a response over the limit with 502, and the app keeps serving', async () => {
    expect(await text('/a/huge')).toMatchObject({ status: 502, body: expect.stringMatching(/over the 1048576-byte limit/) });
    expect(await text('/a/echo')).toMatchObject({ status: 200 });
  });

  it('answers 502 when the app traps; the neighbour keeps serving and the app comes back', async () => {
    const restarts = a.status().restarts;
    expect((await text('/a/trap')).status).toBe(502);
    expect(await text('/b/still-here')).toMatchObject({ status: 200, body: 'GET /b/still-here ' });
    await waitFor(() => a.status().restarts > restarts && a.status().state === 'running', 10_000, 'alpha restarted');
    expect(await text('/a/again')).toMatchObject({ status: 200, body: 'GET /a/again ' });
  });

  it('answers 504 when the app never answers; the app is restarted by its supervisor', async () => {
    const restarts = b.status().restarts;
    const [hung, neighbour] = await Promise.all([text('/b/hang'), text('/a/echo')]);
    expect(hung.status).toBe(504);
    expect(neighbour.status).toBe(200);
    await waitFor(() => b.status().restarts > restarts && b.status().state === 'running', 10_000, 'beta restarted');
    expect(b.status().lastStop?.reason).toBe('deadline');
    expect(await text('/b/back')).toMatchObject({ status: 200, body: 'GET /b/back ' });
  });

  it('answers 413 for a body over the limit, declared or chunked, without calling the app', async () => {
    expect((await text('/a/echo', { method: 'POST', body: 'x'.repeat(65 * 1024) })).status).toBe(413);
    const chunked = `POST /a/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${'10000\r\n' + 'y'.repeat(0x10000) + '\r\n'}10000\r\n${'y'.repeat(0x10000)}\r\n0\r\n\r\n`;
    expect(await rawStatus(port, chunked)).toBe('HTTP/1.1 413 Payload Too Large');
  });

  it('answers malformed requests with 4xx and keeps serving', async () => {
    expect(await rawStatus(port, `GET /a/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(10_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    expect(await rawStatus(port, 'NOT A REQUEST\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawStatus(port, 'GET http://evil.example/a/x HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawStatus(port, 'GET /a/../b/x HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawStatus(port, 'GET /a/%2e%2e/b/x HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    // A client that leaves mid-body: nothing to answer, and the gateway goes on serving.
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write('POST /a/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\npartial');
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
    });
    expect(await text('/a/fine')).toMatchObject({ status: 200 });
  });
});
