import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { BerthError } from '../../common/errors.js';
import { problemSchema, type Problem } from '../../wire/problem.js';
import { ConnectionPool } from './connection-pool.js';
import { trustDomainOf } from './device-signer.js';
import { controlPlaneIdentityCheck } from './control-plane-identity.js';
import type { DeviceIdentity } from './identity-files.js';

/** An answer with its exact bytes (digests and ETags are over them). */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  problem?: Problem;
  /** The identity the request was made with (a renewal may switch it while a long-poll waits). */
  identity?: DeviceIdentity;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  json?: unknown;
  /** Largest body accepted (default 8 MiB). */
  maxBytes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** A POST that may be sent twice without harm (default: only GET, PUT, DELETE, HEAD are). */
  idempotent?: boolean;
}

/**
 * The device's mutual-TLS channel to the control plane. Identity and trusted roots are read at
 * every request, so a renewed certificate or a rotated bundle is used from the next request on;
 * connections are kept alive between requests of one identity (connection-pool.ts).
 */
export class ControlPlaneClient {
  private readonly pool = new ConnectionPool();

  constructor(
    readonly baseUrl: string,
    private readonly current: () => { identity: DeviceIdentity; ca: string | string[]; trustDomain?: string },
  ) {}

  url(path: string): string {
    return new URL(path, this.baseUrl).href;
  }

  /**
   * A request written to a kept-alive connection that the server closed at that moment (its
   * keep-alive timer fired before it read the request) fails before any answer; an idempotent
   * one is sent once more on a new connection (RFC 9112 §9.3.1). GET, PUT and DELETE are
   * idempotent; a POST only when the caller says so (a status report is an upsert).
   */
  async request(path: string, o: RequestOptions = {}): Promise<RawAnswer> {
    const method = o.method ?? 'GET';
    const idempotent = o.idempotent ?? method !== 'POST';
    try {
      return await this.once(path, o);
    } catch (err) {
      if (!idempotent || !(err instanceof KeptAliveConnectionClosed)) throw err instanceof KeptAliveConnectionClosed ? err.cause : err;
      return this.once(path, o, true);
    }
  }

  /** Closes the kept-alive connections (the agent is stopping). */
  close(): void {
    this.pool.close();
  }

  private once(path: string, o: RequestOptions, freshConnection = false): Promise<RawAnswer> {
    const { identity, ca, trustDomain = trustDomainOf(identity) } = this.current();
    const payload = o.json === undefined ? undefined : Buffer.from(JSON.stringify(o.json));
    const maxBytes = o.maxBytes ?? 8 * 1024 * 1024;
    const timeoutMs = o.timeoutMs ?? 30_000;
    const url = this.url(path);
    const { agent, release } = this.pool.acquire(identity, ca, trustDomain);
    return new Promise<RawAnswer>((resolve, reject) => {
      let answered = false;
      const req = request(
        url,
        {
          method: o.method ?? 'GET',
          ca,
          key: identity.keyPem,
          cert: identity.certificatePem,
          checkServerIdentity: controlPlaneIdentityCheck(trustDomain, ca),
          minVersion: 'TLSv1.3',
          // The retry of a request whose kept-alive connection was closed under it: a connection of its own.
          agent: freshConnection ? false : agent,
          signal: o.signal,
          headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}), ...o.headers },
          timeout: timeoutMs,
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) req.destroy(new BerthError('agent.answer_too_large', `${path}: the answer exceeds ${maxBytes} bytes`));
            else chunks.push(chunk);
          });
          res.on('end', () => {
            const bytes = Buffer.concat(chunks);
            const status = res.statusCode ?? 0;
            const answer: RawAnswer = { status, headers: res.headers, bytes, identity };
            if (status >= 400) {
              try {
                const p = problemSchema.safeParse(JSON.parse(bytes.toString('utf8')));
                if (p.success) answer.problem = p.data;
              } catch {
                /* not a problem document: the status says enough */
              }
            }
            resolve(answer);
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new BerthError('agent.timeout', `no answer from ${url} within ${timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(!answered && !freshConnection && closedUnderReuse(req, err) ? new KeptAliveConnectionClosed(err) : err);
      });
      req.end(payload);
    }).finally(release);
  }
}

/**
 * The request went out on a kept-alive connection that the server closed at that moment (its
 * keep-alive timer fired before it read the request): safe to send again on a new connection if
 * idempotent and nothing was answered (RFC 9112 §9.3.1; Node's `request.reusedSocket`).
 */
export function closedUnderReuse(req: ClientRequest, err: NodeJS.ErrnoException): boolean {
  return req.reusedSocket && (err.code === 'ECONNRESET' || err.message === 'socket hang up');
}

class KeptAliveConnectionClosed extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

/** The error for a failed answer, carrying the status and the problem's code and retry hints. */
export function answerError(answer: RawAnswer, what: string): BerthError {
  const p = answer.problem;
  const code = p?.code ?? `http.${answer.status}`;
  return new BerthError(code, `${what} failed: ${answer.status} ${p?.title ?? ''}${p?.detail ? ` (${p.detail})` : ''}`.trim(), {
    status: answer.status,
    retryAfterSeconds: retryAfterSeconds(answer),
    retryable: p?.retryable,
  });
}

/** The server's advice on when to retry: `Retry-After` (seconds) or the problem's `retryAfterSeconds`. */
export function retryAfterSeconds(answer: RawAnswer): number | undefined {
  const h = answer.headers['retry-after'];
  const raw = Array.isArray(h) ? h[0] : h;
  if (raw !== undefined && /^\d+$/.test(raw.trim())) return Number(raw.trim());
  if (raw !== undefined) {
    const when = Date.parse(raw);
    if (Number.isFinite(when)) return Math.max(0, Math.ceil((when - Date.now()) / 1000));
  }
  const fromProblem = answer.problem?.retryAfterSeconds;
  return typeof fromProblem === 'number' && fromProblem >= 0 ? fromProblem : undefined;
}
