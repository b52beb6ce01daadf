/**
 * Bodies of `wasi:http/types`: an outgoing body collects what the guest writes (bounded), an
 * incoming body reads from bytes the host already holds in full (bounded when they were
 * received). Both go through Berth's `wasi:io` streams.
 */
import { readyPollable, type Pollable } from './poll.js';
import { fail } from './result.js';
import { InputStream, IoError, OutputStream, streamClosed, type StreamError } from './streams.js';
import { Fields } from './http-fields.js';

/** `wasi:http/types.error-code`, as jco's glue represents the variant. */
export type ErrorCode =
  | { tag: 'DNS-error'; val: { rcode?: string; infoCode?: number } }
  | { tag: 'HTTP-request-body-size'; val?: bigint }
  | { tag: 'HTTP-response-body-size'; val?: bigint }
  | { tag: 'HTTP-response-header-size'; val: { fieldName?: string; fieldSize?: number } }
  | { tag: 'internal-error'; val?: string }
  | {
      tag:
        | 'HTTP-request-denied'
        | 'DNS-timeout'
        | 'HTTP-request-URI-invalid'
        | 'HTTP-request-method-invalid'
        | 'HTTP-response-timeout'
        | 'HTTP-response-incomplete'
        | 'HTTP-protocol-error'
        | 'destination-not-found'
        | 'destination-unavailable'
        | 'destination-IP-prohibited'
        | 'connection-refused'
        | 'connection-terminated'
        | 'connection-timeout'
        | 'connection-read-timeout'
        | 'TLS-protocol-error'
        | 'TLS-certificate-error'
        | 'configuration-error';
    };

/** An io-error that also carries an HTTP error code (read back by `http-error-code`). */
export class HttpIoError extends IoError {
  constructor(
    message: string,
    readonly code: ErrorCode,
  ) {
    super(message);
  }
}

export function httpErrorCode(err: IoError): ErrorCode | undefined {
  return err instanceof HttpIoError ? err.code : undefined;
}

/** What the guest wrote into an outgoing body, with the size limit enforced as it writes. */
export class BodySink {
  readonly chunks: Uint8Array[] = [];
  size = 0;
  overflowed = false;
  finished = false;

  constructor(readonly limit: number) {}

  write(bytes: Uint8Array): void {
    if (this.finished) streamClosed();
    if (this.size + bytes.byteLength > this.limit) {
      this.overflowed = true;
      const code: ErrorCode = { tag: 'HTTP-request-body-size', val: BigInt(this.limit) };
      fail<StreamError>({ tag: 'last-operation-failed', val: new HttpIoError(`body larger than the ${this.limit}-byte limit`, code) });
    }
    this.chunks.push(bytes.slice());
    this.size += bytes.byteLength;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

export class OutgoingBody {
  #sink: BodySink;
  #streamTaken = false;
  #onFinish: (() => void) | undefined;

  /** @internal */
  constructor(sink: BodySink, onFinish?: () => void) {
    this.#sink = sink;
    this.#onFinish = onFinish;
  }

  write(): OutputStream {
    if (this.#streamTaken) fail(undefined);
    this.#streamTaken = true;
    const sink = this.#sink;
    return new OutputStream({ write: (bytes) => sink.write(bytes) });
  }

  static finish(body: OutgoingBody, trailers: Fields | undefined): void {
    if (!(body instanceof OutgoingBody)) throw new TypeError('not an outgoing-body');
    if (trailers !== undefined) fail<ErrorCode>({ tag: 'internal-error', val: 'trailers are not supported' });
    if (body.#sink.overflowed) fail<ErrorCode>({ tag: 'HTTP-request-body-size', val: BigInt(body.#sink.limit) });
    body.#sink.finished = true;
    body.#onFinish?.();
  }
}

export class FutureTrailers {
  #taken = false;

  subscribe(): Pollable {
    return readyPollable();
  }

  get(): { tag: 'ok'; val: { tag: 'ok'; val: Fields | undefined } } | { tag: 'err'; val: undefined } {
    if (this.#taken) return { tag: 'err', val: undefined };
    this.#taken = true;
    return { tag: 'ok', val: { tag: 'ok', val: undefined } };
  }
}

export class IncomingBody {
  #bytes: Uint8Array | undefined;

  /** @internal */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  stream(): InputStream {
    const bytes = this.#bytes;
    if (!bytes) fail(undefined);
    this.#bytes = undefined;
    let offset = 0;
    return new InputStream({
      read(len) {
        if (offset >= bytes.byteLength) streamClosed();
        const chunk = bytes.subarray(offset, offset + len);
        offset += chunk.byteLength;
        return chunk.slice();
      },
    });
  }

  static finish(body: IncomingBody): FutureTrailers {
    if (!(body instanceof IncomingBody)) throw new TypeError('not an incoming-body');
    return new FutureTrailers();
  }
}
