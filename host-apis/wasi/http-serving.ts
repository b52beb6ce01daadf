/**
 * The server side of `wasi:http/types`: incoming-request, outgoing-response and
 * response-outparam, created by the gateway adapter (http-gateway-adapter.ts) for one request
 * the device's gateway routed to this app.
 */
import { fail } from './result.js';
import { BodySink, IncomingBody, OutgoingBody, type ErrorCode } from './http-body.js';
import { Fields, type FieldEntry } from './http-fields.js';
import type { Method, Scheme } from './http-outgoing.js';

const STANDARD_METHODS = new Set(['get', 'head', 'post', 'put', 'delete', 'connect', 'options', 'trace', 'patch']);

export function toMethod(name: string): Method {
  const lower = name.toLowerCase();
  return STANDARD_METHODS.has(lower) && name === name.toUpperCase() ? ({ tag: lower } as Method) : { tag: 'other', val: name };
}

export interface IncomingRequestData {
  method: string;
  pathWithQuery: string;
  authority: string;
  headers: FieldEntry[];
  body: Uint8Array;
}

export class IncomingRequest {
  #data: IncomingRequestData;
  #headers: Fields;
  #consumed = false;

  /** @internal */
  constructor(data: IncomingRequestData) {
    this.#data = data;
    this.#headers = Fields.locked(data.headers);
  }

  method(): Method {
    return toMethod(this.#data.method);
  }
  pathWithQuery(): string | undefined {
    return this.#data.pathWithQuery;
  }
  scheme(): Scheme | undefined {
    return { tag: 'HTTP' };
  }
  authority(): string | undefined {
    return this.#data.authority;
  }
  headers(): Fields {
    return Fields.locked(this.#headers);
  }
  consume(): IncomingBody {
    if (this.#consumed) fail(undefined);
    this.#consumed = true;
    return new IncomingBody(this.#data.body);
  }
}

export class OutgoingResponse {
  #headers: Fields;
  #status = 200;
  #sink: BodySink | undefined;

  constructor(headers: Fields) {
    if (!(headers instanceof Fields)) throw new TypeError('not a fields resource');
    this.#headers = Fields.locked(headers);
  }

  statusCode(): number {
    return this.#status;
  }
  setStatusCode(status: number): void {
    if (!Number.isInteger(status) || status < 100 || status > 599) fail(undefined);
    this.#status = status;
  }
  headers(): Fields {
    return Fields.locked(this.#headers);
  }
  body(): OutgoingBody {
    if (this.#sink) fail(undefined);
    this.#sink = new BodySink(responseBodyLimit);
    return new OutgoingBody(this.#sink);
  }

  /** @internal */
  static parts(response: OutgoingResponse) {
    return { status: response.#status, headers: response.#headers.entries(), sink: response.#sink };
  }
}

/** Set by the adapter for the request being served (one at a time per instance). */
let responseBodyLimit = 0;

export type ResponseSetting = { tag: 'ok'; val: OutgoingResponse } | { tag: 'err'; val: ErrorCode };

export class ResponseOutparam {
  #listener: ((response: ResponseSetting) => void) | undefined;

  /** @internal */
  constructor(listener: (response: ResponseSetting) => void) {
    this.#listener = listener;
  }

  sendInformational(): void {
    fail<ErrorCode>({ tag: 'internal-error', val: 'informational responses are not supported' });
  }

  static set(param: ResponseOutparam, response: ResponseSetting): void {
    if (!(param instanceof ResponseOutparam)) throw new TypeError('not a response-outparam');
    const listener = param.#listener;
    if (!listener) throw new Error('response-outparam was already set');
    param.#listener = undefined;
    listener(response);
  }

  /** @internal */
  static serving<T>(limit: number, run: () => T): T {
    const previous = responseBodyLimit;
    responseBodyLimit = limit;
    try {
      return run();
    } finally {
      responseBodyLimit = previous;
    }
  }
}
