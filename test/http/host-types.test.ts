import { describe, expect, it } from 'vitest';
import { parseGrants } from '../../host-apis/grants.js';
import { HttpIoError, OutgoingBody } from '../../host-apis/wasi/http-body.js';
import { Fields } from '../../host-apis/wasi/http-fields.js';
import { gatewayAdapter, INCOMING_HANDLER_EXPORT, type GatewayRequest } from '../../host-apis/wasi/http-gateway-adapter.js';
import { createOutgoingHandler } from '../../host-apis/wasi/http-outgoing-handler.js';
import { OutgoingRequest, RequestOptions } from '../../host-apis/wasi/http-outgoing.js';
import { IncomingRequest, OutgoingResponse, ResponseOutparam } from '../../host-apis/wasi/http-serving.js';
import type { OutboundRequest, OutboundResult } from '../../host-apis/wasi/http-wire.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const payloadOf = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return (err as { payload?: unknown }).payload;
  }
  throw new Error('expected a WASI error result');
};

describe('wasi:http fields', () => {
  it('refuses forbidden and malformed names and values', () => {
    const fields = new Fields();
    for (const name of ['Host', 'connection', 'Transfer-Encoding', 'upgrade', 'keep-alive', 'te']) {
      expect(
        payloadOf(() => fields.append(name, bytes('x'))),
        name,
      ).toEqual({ tag: 'forbidden' });
    }
    expect(payloadOf(() => fields.append('bad name', bytes('x')))).toEqual({ tag: 'invalid-syntax' });
    expect(payloadOf(() => fields.append('x-a', bytes('a\r\nHost: evil')))).toEqual({ tag: 'invalid-syntax' });
    expect(
      payloadOf(() =>
        Fields.fromList([
          ['x-ok', bytes('1')],
          ['host', bytes('evil')],
        ]),
      ),
    ).toEqual({ tag: 'forbidden' });
  });

  it('is a case-insensitive multimap; a request keeps an immutable copy', () => {
    const fields = Fields.fromList([
      ['X-A', bytes('1')],
      ['x-a', bytes('2')],
    ]);
    expect(fields.get('x-A').map((v) => Buffer.from(v).toString())).toEqual(['1', '2']);
    const request = new OutgoingRequest(fields);
    fields.set('x-a', [bytes('3')]);
    const seen = request.headers();
    expect(seen.get('x-a')).toHaveLength(2);
    expect(payloadOf(() => seen.append('x-b', bytes('1')))).toEqual({ tag: 'immutable' });
  });

  it('bounds the total size of one fields', () => {
    const fields = new Fields();
    expect(
      payloadOf(() => {
        for (let i = 0; i < 100; i++) fields.append(`x-${i}`, new Uint8Array(1024).fill(97));
      }),
    ).toEqual({ tag: 'invalid-syntax' });
  });
});

describe('wasi:http outgoing-handler built from the grant', () => {
  const grant = parseGrants({ 'outbound-http': { allow: ['https://api.example.com:443', 'http://127.0.0.1:*'], maxRequestBytes: 8 } })['outbound-http']!;
  const setup = () => {
    const sent: OutboundRequest[] = [];
    const warnings: string[] = [];
    const handler = createOutgoingHandler({
      grant,
      warn: (m) => warnings.push(m),
      hostCall: (method, args) => {
        expect(method).toBe('http.outbound');
        sent.push(args[0] as OutboundRequest);
        return { ok: true, status: 201, headers: [['x-r', bytes('1')]], body: bytes('answer') } satisfies OutboundResult;
      },
    });
    return { sent, warnings, handler };
  };
  const request = (scheme: string, authority: string, path = '/p') => {
    const r = new OutgoingRequest(new Fields());
    r.setScheme(scheme === 'http' ? { tag: 'HTTP' } : scheme === 'https' ? { tag: 'HTTPS' } : { tag: 'other', val: scheme });
    r.setAuthority(authority);
    r.setPathWithQuery(path);
    return r;
  };

  it('refuses a non-granted origin with HTTP-request-denied and a log line, sending nothing', () => {
    const { sent, warnings, handler } = setup();
    for (const [scheme, authority] of [
      ['https', 'evil.example.com'],
      ['http', 'api.example.com:443'],
      ['https', 'api.example.com:444'],
      ['http', 'localhost:80'],
    ]) {
      expect(
        payloadOf(() => handler.handle(request(scheme!, authority!), undefined)),
        `${scheme}://${authority}`,
      ).toEqual({ tag: 'HTTP-request-denied' });
    }
    expect(payloadOf(() => handler.handle(request('ftp', 'api.example.com:21'), undefined))).toEqual({ tag: 'HTTP-request-URI-invalid' });
    expect(sent).toEqual([]);
    expect(warnings).toHaveLength(5);
    expect(warnings[0]).toMatch(/refused: https:\/\/evil\.example\.com:443 is not in the outbound-http grant/);
  });

  it('sends a granted request with its body once the body is finished, and reads the response', () => {
    const { sent, handler } = setup();
    const r = request('http', '127.0.0.1:8080', '/x?y=1');
    r.setMethod({ tag: 'post' });
    const body = r.body();
    const options = new RequestOptions();
    options.setFirstByteTimeout(250_000_000n);
    const future = handler.handle(r, options);
    expect(sent).toHaveLength(0);
    const stream = body.write();
    stream.checkWrite();
    stream.write(bytes('hi'));
    OutgoingBody.finish(body, undefined);
    expect(sent).toEqual([
      expect.objectContaining({ method: 'POST', scheme: 'http', authority: '127.0.0.1:8080', pathWithQuery: '/x?y=1', firstByteTimeoutMs: 250 }),
    ]);
    expect(Buffer.from(sent[0]!.body).toString()).toBe('hi');
    const got = future.get() as { tag: 'ok'; val: { tag: 'ok'; val: { status(): number; consume(): { stream(): { read(n: bigint): Uint8Array } } } } };
    expect(got.val.val.status()).toBe(201);
    expect(Buffer.from(got.val.val.consume().stream().read(100n)).toString()).toBe('answer');
    expect(future.get()).toEqual({ tag: 'err', val: undefined });
  });

  it('fails a request body over the grant limit with HTTP-request-body-size', () => {
    const { sent, handler } = setup();
    const r = request('http', '127.0.0.1:1');
    const body = r.body();
    const stream = body.write();
    stream.checkWrite();
    stream.write(bytes('0123456789'));
    OutgoingBody.finish(body, undefined);
    const future = handler.handle(r, undefined);
    expect(future.get()).toEqual({ tag: 'ok', val: { tag: 'err', val: { tag: 'HTTP-request-body-size', val: 8n } } });
    expect(sent).toEqual([]);
  });

  it('turns a host-call failure (bridge timeout) into an error code, not a trap', () => {
    const handler = createOutgoingHandler({
      grant,
      warn: () => {},
      hostCall: () => {
        throw new Error('host call http.outbound did not answer within 30000 ms');
      },
    });
    const future = handler.handle(request('http', '127.0.0.1:1'), undefined);
    expect(future.get()).toMatchObject({ tag: 'ok', val: { tag: 'err', val: { tag: 'internal-error' } } });
  });
});

describe('the gateway adapter (app side)', () => {
  const req = (over: Partial<GatewayRequest> = {}): GatewayRequest => ({
    method: 'POST',
    pathWithQuery: '/a/x',
    authority: 'dev',
    headers: [['x-h', bytes('v')]],
    body: bytes('in'),
    maxResponseBytes: 16,
    ...over,
  });
  const adapter = (handle: (r: IncomingRequest, out: ResponseOutparam) => void) =>
    gatewayAdapter((fn) => (fn === INCOMING_HANDLER_EXPORT ? (handle as (...a: unknown[]) => unknown) : undefined))!;
  const respond = (out: ResponseOutparam, text: string, status = 200) => {
    const response = new OutgoingResponse(Fields.fromList([['content-type', bytes('text/plain')]]));
    response.setStatusCode(status);
    const body = response.body();
    ResponseOutparam.set(out, { tag: 'ok', val: response });
    const stream = body.write();
    stream.checkWrite();
    stream.write(bytes(text));
    OutgoingBody.finish(body, undefined);
  };

  it('is absent when the app has no incoming handler', () => {
    expect(gatewayAdapter(() => undefined)).toBeUndefined();
  });

  it('gives the app the request and collects its response', () => {
    const answer = adapter((r, out) => {
      const body = Buffer.from(r.consume().stream().read(100n)).toString();
      respond(out, `${r.method().tag} ${r.pathWithQuery()} ${body} ${Buffer.from(r.headers().get('x-h')[0]!).toString()}`, 201);
    })(req());
    expect(answer).toMatchObject({ kind: 'response', status: 201 });
    if (answer.kind === 'response') expect(Buffer.from(answer.body).toString()).toBe('post /a/x in v');
  });

  it('reports a response over the limit, no response, and an error code', () => {
    expect(
      adapter((_r, out) => {
        try {
          respond(out, 'x'.repeat(17));
        } catch (err) {
          expect((err as { payload: { val: unknown } }).payload.val).toBeInstanceOf(HttpIoError);
        }
      })(req()),
    ).toEqual({ kind: 'too-large', limit: 16 });
    expect(adapter(() => {})(req())).toEqual({ kind: 'no-response' });
    expect(adapter((_r, out) => ResponseOutparam.set(out, { tag: 'err', val: { tag: 'internal-error', val: 'x' } }))(req())).toEqual({
      kind: 'error-code',
      code: { tag: 'internal-error', val: 'x' },
    });
  });

  it('traps (throws) when the app sets the outparam twice', () => {
    expect(() =>
      adapter((_r, out) => {
        respond(out, 'a');
        respond(out, 'b');
      })(req()),
    ).toThrow(/already set/);
  });
});
