import { request } from 'node:https';
import { BerthError } from '../../common/errors.js';
import { problemSchema, type Problem } from '../../wire/problem.js';
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
}

/**
 * The device's mutual-TLS channel to the control plane. Identity and trusted roots are read at
 * every request, so a renewed certificate or a rotated bundle is used from the next request on.
 */
export class ControlPlaneClient {
  constructor(
    readonly baseUrl: string,
    private readonly current: () => { identity: DeviceIdentity; ca: string | string[] },
  ) {}

  url(path: string): string {
    return new URL(path, this.baseUrl).href;
  }

  request(path: string, o: RequestOptions = {}): Promise<RawAnswer> {
    const { identity, ca } = this.current();
    const payload = o.json === undefined ? undefined : Buffer.from(JSON.stringify(o.json));
    const maxBytes = o.maxBytes ?? 8 * 1024 * 1024;
    const timeoutMs = o.timeoutMs ?? 30_000;
    const url = this.url(path);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: o.method ?? 'GET',
          ca,
          key: identity.keyPem,
          cert: identity.certificatePem,
          minVersion: 'TLSv1.3',
          agent: false,
          signal: o.signal,
          headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}), ...o.headers },
          timeout: timeoutMs,
        },
        (res) => {
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
      req.on('error', reject);
      req.end(payload);
    });
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
