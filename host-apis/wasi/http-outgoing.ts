/**
 * The client side of `wasi:http/types`: outgoing-request, request-options,
 * future-incoming-response and incoming-response. The classes hold no authority; the only way a
 * request leaves the app is `handle` in http-outgoing-handler.ts, built from the app's grant.
 */
import { Pollable } from './poll.js';
import { fail } from './result.js';
import { BodySink, IncomingBody, OutgoingBody, type ErrorCode } from './http-body.js';
import { Fields } from './http-fields.js';
import type { OutboundResult } from './http-wire.js';

export type Method = { tag: 'get' | 'head' | 'post' | 'put' | 'delete' | 'connect' | 'options' | 'trace' | 'patch' } | { tag: 'other'; val: string };
export type Scheme = { tag: 'HTTP' } | { tag: 'HTTPS' } | { tag: 'other'; val: string };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PATH = /^\/[\x21-\x7e]*$/;
const AUTHORITY = /^[\x21-\x7e]{1,300}$/;
/** Largest request body kept by a request before its grant's own (smaller) limit applies. */
export const HARD_BODY_LIMIT = 64 * 2 ** 20;

export function methodName(method: Method): string {
  return method.tag === 'other' ? method.val : method.tag.toUpperCase();
}

export function schemeName(scheme: Scheme | undefined): string {
  if (!scheme) return 'https';
  return scheme.tag === 'other' ? scheme.val.toLowerCase() : scheme.tag.toLowerCase();
}

export class OutgoingRequest {
  #headers: Fields;
  #method: Method = { tag: 'get' };
  #scheme: Scheme | undefined;
  #authority: string | undefined;
  #path: string | undefined;
  #body: OutgoingBody | undefined;
  #sink = new BodySink(HARD_BODY_LIMIT);
  #bodyTaken = false;
  #bodyFinished = false;
  #onBodyFinished: (() => void) | undefined;

  constructor(headers: Fields) {
    if (!(headers instanceof Fields)) throw new TypeError('not a fields resource');
    this.#headers = Fields.locked(headers);
  }

  body(): OutgoingBody {
    if (this.#bodyTaken) fail(undefined);
    this.#bodyTaken = true;
    this.#body = new OutgoingBody(this.#sink, () => {
      this.#bodyFinished = true;
      this.#onBodyFinished?.();
    });
    return this.#body;
  }

  method(): Method {
    return this.#method;
  }

  setMethod(method: Method): void {
    if (method.tag === 'other' && !TOKEN.test(method.val)) fail(undefined);
    this.#method = method;
  }

  pathWithQuery(): string | undefined {
    return this.#path;
  }

  setPathWithQuery(path: string | undefined): void {
    if (path !== undefined && !PATH.test(path)) fail(undefined);
    this.#path = path;
  }

  scheme(): Scheme | undefined {
    return this.#scheme;
  }

  setScheme(scheme: Scheme | undefined): void {
    if (scheme?.tag === 'other' && !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme.val)) fail(undefined);
    this.#scheme = scheme;
  }

  authority(): string | undefined {
    return this.#authority;
  }

  setAuthority(authority: string | undefined): void {
    if (authority !== undefined && !AUTHORITY.test(authority)) fail(undefined);
    this.#authority = authority;
  }

  headers(): Fields {
    return Fields.locked(this.#headers);
  }

  /** @internal What `handle` needs; the body's sink is shared so later writes are seen. */
  static parts(request: OutgoingRequest) {
    return {
      method: request.#method,
      scheme: request.#scheme,
      authority: request.#authority,
      path: request.#path,
      headers: request.#headers,
      sink: request.#sink,
      bodyTaken: request.#bodyTaken,
      bodyFinished: () => request.#bodyFinished,
      onBodyFinished: (listener: () => void) => {
        request.#onBodyFinished = listener;
      },
    };
  }
}

export class RequestOptions {
  #connect: bigint | undefined;
  #firstByte: bigint | undefined;
  #betweenBytes: bigint | undefined;

  connectTimeout(): bigint | undefined {
    return this.#connect;
  }
  setConnectTimeout(d: bigint | undefined): void {
    this.#connect = d;
  }
  firstByteTimeout(): bigint | undefined {
    return this.#firstByte;
  }
  setFirstByteTimeout(d: bigint | undefined): void {
    this.#firstByte = d;
  }
  betweenBytesTimeout(): bigint | undefined {
    return this.#betweenBytes;
  }
  setBetweenBytesTimeout(d: bigint | undefined): void {
    this.#betweenBytes = d;
  }

  /** @internal Timeouts in whole milliseconds (nanoseconds on the WIT side). */
  static millis(options: RequestOptions | undefined) {
    const ms = (d: bigint | undefined) => (d === undefined ? undefined : Math.max(1, Number(d / 1_000_000n)));
    if (!(options instanceof RequestOptions)) return {};
    return { connectTimeoutMs: ms(options.#connect), firstByteTimeoutMs: ms(options.#firstByte), betweenBytesTimeoutMs: ms(options.#betweenBytes) };
  }
}

export class IncomingResponse {
  #status: number;
  #headers: Fields;
  #body: IncomingBody | undefined;

  /** @internal */
  constructor(status: number, headers: [string, Uint8Array][], body: Uint8Array) {
    this.#status = status;
    this.#headers = Fields.locked(headers);
    this.#body = new IncomingBody(body);
  }

  status(): number {
    return this.#status;
  }

  headers(): Fields {
    return Fields.locked(this.#headers);
  }

  consume(): IncomingBody {
    const body = this.#body;
    if (!body) fail(undefined);
    this.#body = undefined;
    return body;
  }
}

type FutureValue = { tag: 'ok'; val: { tag: 'ok'; val: IncomingResponse } | { tag: 'err'; val: ErrorCode } } | { tag: 'err'; val: undefined };

/**
 * A response that is fetched, in full and synchronously through the host-call bridge, the first
 * time anyone looks: when the request body is finished, or when the guest polls or gets it.
 */
export class FutureIncomingResponse {
  #fetch: (() => OutboundResult) | undefined;
  #result: OutboundResult | undefined;
  #taken = false;

  /** @internal */
  constructor(fetch: () => OutboundResult) {
    this.#fetch = fetch;
  }

  /** @internal */
  settle(): void {
    const fetch = this.#fetch;
    if (!fetch) return;
    this.#fetch = undefined;
    this.#result = fetch();
  }

  subscribe(): Pollable {
    return new Pollable({ ready: () => (this.settle(), true) });
  }

  get(): FutureValue | undefined {
    this.settle();
    if (this.#taken) return { tag: 'err', val: undefined };
    this.#taken = true;
    const r = this.#result!;
    if (!r.ok) return { tag: 'ok', val: { tag: 'err', val: r.error } };
    return { tag: 'ok', val: { tag: 'ok', val: new IncomingResponse(r.status, r.headers, r.body) } };
  }
}
