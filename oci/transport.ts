import type { PeerCertificate } from 'node:tls';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BerthError } from '../common/errors.js';

/**
 * One HTTP exchange with a registry, with everything a hostile or broken server could do
 * bounded: a deadline for the whole exchange, an idle timeout between bytes, a cap on the body,
 * and a check that the body is as long as the server promised.
 */
export interface TransportOptions {
  /** PEM of extra CAs to trust (a private registry CA). */
  ca?: string | string[];
  /** Client key and certificate chain (PEM) for registries that ask for mutual TLS (the control plane's mirror). */
  key?: string;
  cert?: string;
  /** Who the server must be beyond its host name (the control plane's mirror: its SPIFFE ID); Node's tls option of that name. */
  checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
  /** Whole exchange, headers and body (default 60 s). */
  deadlineMs?: number;
  /** No byte for this long is a timeout (default 15 s). */
  idleTimeoutMs?: number;
  /** Attempts for retryable failures: 5xx, 429, timeouts, resets (default 3). */
  attempts?: number;
  /** First back-off; doubled each retry, with jitter (default 200 ms). */
  backoffMs?: number;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Largest body accepted; larger is an error, whatever Content-Length says. */
  maxBytes: number;
  /** What the exchange is, for error messages: "manifest x@y", "blob sha256:…". */
  what: string;
  onBytes?: (received: number, total: number | undefined) => void;
  /** False for a request that cannot simply be repeated (an upload session's final PUT). */
  retry?: boolean;
  /** Upload progress, reported as the request body is written. */
  onSent?: (sent: number, total: number) => void;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

const RETRYABLE_CODES = new Set(['oci.timeout', 'oci.connection', 'oci.truncated']);

export class Transport {
  readonly options: Required<Omit<TransportOptions, 'ca' | 'key' | 'cert' | 'checkServerIdentity'>> &
    Pick<TransportOptions, 'ca' | 'key' | 'cert' | 'checkServerIdentity'>;

  constructor(options: TransportOptions = {}) {
    this.options = {
      deadlineMs: options.deadlineMs ?? 60_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 15_000,
      attempts: Math.max(1, options.attempts ?? 3),
      backoffMs: options.backoffMs ?? 200,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.key && options.cert ? { key: options.key, cert: options.cert } : {}),
      ...(options.checkServerIdentity ? { checkServerIdentity: options.checkServerIdentity } : {}),
    };
  }

  /** Sends with retries on 5xx/429 and transport failures; other statuses go to the caller. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    let lastError: unknown;
    const attempts = req.retry === false ? 1 : this.options.attempts;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(backoff(this.options.backoffMs, attempt));
      try {
        const res = await this.once(req);
        if ((res.status >= 500 || res.status === 429) && attempt < attempts) {
          lastError = statusError(req, res);
          continue;
        }
        return res;
      } catch (err) {
        lastError = err;
        if (!(err instanceof BerthError) || !RETRYABLE_CODES.has(err.code)) throw err;
      }
    }
    throw lastError;
  }

  once(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.url);
    const isTls = url.protocol === 'https:';
    const send = isTls ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    if (req.body) headers['content-length'] = String(req.body.byteLength);

    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const fail = (err: BerthError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clientReq.destroy();
        reject(err);
      };
      const deadline = setTimeout(
        () => fail(new BerthError('oci.timeout', `registry did not finish answering ${req.what} within ${this.options.deadlineMs} ms`, { url: req.url })),
        this.options.deadlineMs,
      );
      const clientReq = send(
        url,
        {
          method: req.method,
          headers,
          ...(isTls && this.options.ca ? { ca: this.options.ca } : {}),
          ...(isTls && this.options.key ? { key: this.options.key, cert: this.options.cert } : {}),
          ...(isTls && this.options.checkServerIdentity ? { checkServerIdentity: this.options.checkServerIdentity } : {}),
          timeout: this.options.idleTimeoutMs,
        },
        (res) =>
          this.readBody(req, res, fail, (body) => {
            if (settled) return;
            settled = true;
            clearTimeout(deadline);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          }),
      );
      clientReq.on('timeout', () =>
        fail(new BerthError('oci.timeout', `registry went silent for ${this.options.idleTimeoutMs} ms while answering ${req.what}`, { url: req.url })),
      );
      clientReq.on('error', (err: NodeJS.ErrnoException) => {
        const tlsProblem = /certificate|self.signed|SSL|TLS/i.test(`${err.code ?? ''} ${err.message}`);
        fail(
          new BerthError(
            tlsProblem ? 'oci.tls' : 'oci.connection',
            `cannot reach the registry for ${req.what} at ${url.host}: ${err.message}`,
            { url: req.url },
            { cause: err },
          ),
        );
      });
      writeBody(clientReq, req);
    });
  }

  private readBody(req: HttpRequest, res: IncomingMessage, fail: (e: BerthError) => void, done: (body: Buffer) => void): void {
    const declared = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
    if (declared !== undefined && (!Number.isSafeInteger(declared) || declared < 0)) {
      return fail(new BerthError('oci.bad-response', `registry sent an invalid Content-Length for ${req.what}`, { url: req.url }));
    }
    // A HEAD answer's Content-Length describes the resource, not this (empty) body.
    if (req.method === 'HEAD') {
      res.resume();
      return done(Buffer.alloc(0));
    }
    // Error answers are read only so far as needed to report them.
    const limit = res.statusCode !== undefined && res.statusCode >= 400 ? Math.min(req.maxBytes, 64 * 1024) : req.maxBytes;
    if (declared !== undefined && declared > limit && res.statusCode !== undefined && res.statusCode < 400) {
      return fail(new BerthError('oci.too-large', `registry answer for ${req.what} is ${declared} bytes, over the limit of ${limit}`, { url: req.url }));
    }
    const chunks: Buffer[] = [];
    let received = 0;
    res.on('data', (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > limit) {
        if (res.statusCode !== undefined && res.statusCode >= 400) {
          // Enough to report the error; an endless error body is not read to the deadline.
          done(Buffer.concat(chunks));
          return void res.destroy();
        }
        return fail(new BerthError('oci.too-large', `registry answer for ${req.what} exceeds the limit of ${limit} bytes`, { url: req.url }));
      }
      chunks.push(chunk);
      req.onBytes?.(received, declared);
    });
    res.on('close', () => {
      if (!res.complete) fail(truncated(req, received, declared));
    });
    res.on('error', () => fail(truncated(req, received, declared)));
    res.on('end', () => {
      if (declared !== undefined && received < declared && !(res.statusCode && res.statusCode >= 400)) return fail(truncated(req, received, declared));
      done(Buffer.concat(chunks));
    });
  }
}

const CHUNK = 256 * 1024;

/** Writes the body in chunks, honouring back-pressure, so that upload progress is real. */
function writeBody(clientReq: ReturnType<typeof httpRequest>, req: HttpRequest): void {
  const body = req.body ? Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength) : undefined;
  if (!body || !req.onSent || body.byteLength <= CHUNK) {
    clientReq.end(body);
    if (body) req.onSent?.(body.byteLength, body.byteLength);
    return;
  }
  let offset = 0;
  const pump = (): void => {
    while (offset < body.byteLength) {
      const next = Math.min(offset + CHUNK, body.byteLength);
      const ok = clientReq.write(body.subarray(offset, next));
      offset = next;
      req.onSent?.(offset, body.byteLength);
      if (!ok) {
        clientReq.once('drain', pump);
        return;
      }
    }
    clientReq.end();
  };
  pump();
}

function truncated(req: HttpRequest, received: number, declared: number | undefined): BerthError {
  return new BerthError(
    'oci.truncated',
    `registry answer for ${req.what} was cut off after ${received}${declared !== undefined ? ` of ${declared}` : ''} bytes`,
    { url: req.url },
  );
}

export function statusError(req: Pick<HttpRequest, 'what' | 'url'>, res: HttpResponse): BerthError {
  const detail = registryErrorText(res.body);
  const code = res.status === 404 ? 'oci.not-found' : res.status === 401 || res.status === 403 ? 'oci.unauthorized' : 'oci.registry-error';
  return new BerthError(code, `registry answered ${res.status} for ${req.what}${detail ? `: ${detail}` : ''}`, { url: req.url, status: res.status });
}

/** The distribution spec's `{"errors":[{code,message}]}`, shortened; never trusted beyond text. */
function registryErrorText(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.subarray(0, 4096).toString('utf8')) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = parsed.errors?.[0];
    if (first)
      return `${String(first.code ?? '')} ${String(first.message ?? '')}`
        .trim()
        .slice(0, 200)
        .replace(/[^\x20-\x7e]/g, '?');
  } catch {
    /* not JSON: no detail */
  }
  return '';
}

export function isRetryable(err: unknown): boolean {
  return (
    err instanceof BerthError &&
    (RETRYABLE_CODES.has(err.code) ||
      (err.code === 'oci.registry-error' && typeof err.details?.status === 'number' && (err.details.status >= 500 || err.details.status === 429)))
  );
}

export function backoff(base: number, attempt: number): number {
  const exp = base * 2 ** (attempt - 2);
  return exp / 2 + Math.random() * (exp / 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
