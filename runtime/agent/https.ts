import { request, Agent } from 'node:https';
import { BerthError } from '../../common/errors.js';
import { problemSchema, type Problem } from '../../wire/problem.js';
import { controlPlaneIdentityCheck } from './control-plane-identity.js';

/** TLS settings of the device's connection to the control plane. */
export interface DeviceTls {
  /** CA certificates the server must chain to (the fleet roots, provisioned or from the bundle). */
  ca: string | string[];
  /** Client key and certificate chain, once the device has them. */
  key?: string;
  cert?: string;
  /** The trust domain whose control plane the server must be (undefined before onboarding: any). */
  trustDomain?: string;
}

export interface JsonAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  problem?: Problem;
}

export const MAX_ANSWER_BYTES = 1024 * 1024;

/** What an operator-side caller changes: its own headers (a bearer token) and bounds. */
export interface RequestBounds {
  headers?: Record<string, string>;
  maxBytes?: number;
  timeoutMs?: number;
}

/** One HTTPS request with a JSON body; the server is always verified as the control plane (no trust on first use). */
export function httpsJson(url: string, tls: DeviceTls, method: string, body?: unknown, agent?: Agent, bounds: RequestBounds = {}): Promise<JsonAnswer> {
  const maxBytes = bounds.maxBytes ?? MAX_ANSWER_BYTES;
  const timeoutMs = bounds.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      url,
      {
        method,
        ca: tls.ca,
        key: tls.key,
        cert: tls.cert,
        checkServerIdentity: controlPlaneIdentityCheck(tls.trustDomain, tls.ca),
        minVersion: 'TLSv1.3',
        agent: agent ?? false,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
          ...bounds.headers,
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) req.destroy(new BerthError('agent.answer_too_large', `the control plane's answer exceeds ${maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            return reject(new BerthError('agent.bad_answer', `the control plane answered ${res.statusCode} with a body that is not JSON`));
          }
          const problem = problemSchema.safeParse(parsed);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: parsed,
            ...(problem.success && (res.statusCode ?? 0) >= 400 ? { problem: problem.data } : {}),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new BerthError('agent.timeout', `no answer from ${url} within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Raises the problem document of a failed answer as a BerthError carrying its code. */
export function failure(answer: JsonAnswer, what: string): BerthError {
  const p = answer.problem;
  const code = p?.code ?? `http.${answer.status}`;
  return new BerthError(code, `${what} failed: ${answer.status} ${p?.title ?? ''}${p?.detail ? ` (${p.detail})` : ''}`.trim(), {
    status: answer.status,
    problem: p,
  });
}
