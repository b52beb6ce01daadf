import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayAnswer } from '../../host-apis/wasi/http-gateway-adapter.js';
import { toClientAnswer } from '../../runtime/gateway/answer.js';
import { HttpGateway, type GatewayApp } from '../../runtime/gateway/gateway.js';
import type { InvokeOutcome } from '../../runtime/sandbox/protocol.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const ok = (value: GatewayAnswer | unknown): InvokeOutcome => ({ ok: true, value });

describe('gateway answers from app outcomes (nothing the app returns is trusted)', () => {
  it('passes a valid response, dropping hop-by-hop and malformed headers', () => {
    const answer = toClientAnswer(
      ok({
        kind: 'response',
        status: 201,
        body: bytes('b'),
        headers: [
          ['x-a', bytes('1')],
          ['transfer-encoding', bytes('chunked')],
          ['x-b', bytes('a\r\nSet-Cookie: evil')],
          ['bad name', bytes('x')],
        ],
      }),
    );
    expect(answer).toMatchObject({ status: 201, headers: [['x-a', '1']] });
  });

  it('answers 502 for anything that is not a valid response', () => {
    for (const value of [
      undefined,
      'text',
      { kind: 'response', status: 700, headers: [], body: bytes('') },
      { kind: 'response', status: 200, headers: [], body: 'not bytes' },
      { kind: 'other' },
    ]) {
      expect(toClientAnswer(ok(value)).status, JSON.stringify(value)).toBe(502);
    }
    expect(toClientAnswer({ ok: false, failure: { kind: 'trap', message: 'unreachable' } }).status).toBe(502);
    expect(toClientAnswer({ ok: false, failure: { kind: 'sandbox-stopped', reason: 'deadline', message: '' } }).status).toBe(504);
  });
});

describe('gateway limits with a stuck app', () => {
  const release: (() => void)[] = [];
  let stuck = true;
  const app: GatewayApp = {
    name: 'v/stuck',
    route: '/s',
    maxRequestBytes: 1024,
    maxResponseBytes: 1024,
    timeoutMs: 100,
    invoke: () =>
      stuck
        ? new Promise<InvokeOutcome>((resolve) => release.push(() => resolve(ok({ kind: 'no-response' }))))
        : Promise.resolve(ok({ kind: 'response', status: 200, headers: [], body: bytes('fine') })),
  };
  const gateway = new HttpGateway({ maxInFlightPerApp: 2 });
  let port = 0;
  beforeAll(async () => {
    gateway.addApp(app);
    port = await gateway.listen();
  });
  afterAll(async () => gateway.close());
  const status = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;

  it('answers 504 at its own deadline, then 503 while the stuck invocations still count, then serves again', async () => {
    expect(await Promise.all([status('/s/1'), status('/s/2')])).toEqual([504, 504]);
    expect(await status('/s/3')).toBe(503);
    stuck = false;
    release.splice(0).forEach((r) => r());
    await new Promise((r) => setTimeout(r, 20));
    expect(await status('/s/4')).toBe(200);
  });
});
