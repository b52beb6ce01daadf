import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BerthError } from '../../common/errors.js';
import { adminSocketPath } from './socket-path.js';

/**
 * How operator commands reach a control plane: the owner-only admin socket in its data
 * directory, or its URL with a bearer token and the fleet root to verify it.
 */
export type AdminTarget = { kind: 'socket'; path: string } | { kind: 'https'; url: string; token: string; ca: string };

export function socketTarget(dataDir: string): AdminTarget {
  const path = adminSocketPath(dataDir);
  if (!existsSync(path)) throw new BerthError('cli.not_running', `no control plane is running with data directory ${dataDir} (no ${path})`);
  return { kind: 'socket', path };
}

export interface AdminAnswer {
  status: number;
  body: any;
}

/** `signal` abandons the request (shell completion gives a control plane a couple of seconds). */
export interface RequestOptions {
  signal?: AbortSignal;
}

export function adminRequest(target: AdminTarget, method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = payload ? { 'content-type': 'application/json' } : {};
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        } catch {
          reject(new BerthError('cli.bad_answer', `the control plane answered ${res.statusCode} with a body that is not JSON`));
        }
      });
      res.on('error', reject);
    };
    const req =
      target.kind === 'socket'
        ? httpRequest({ socketPath: target.path, path, method, headers, signal: options.signal }, onResponse)
        : httpsRequest(
            new URL(path, target.url),
            { method, ca: target.ca, headers: { ...headers, authorization: `Bearer ${target.token}` }, minVersion: 'TLSv1.3', signal: options.signal },
            onResponse,
          );
    req.on('error', (err) => reject(new BerthError('cli.unreachable', `cannot reach the control plane: ${err.message}`)));
    req.end(payload);
  });
}

/** The body of a successful answer, or a BerthError carrying the problem's code and detail. */
export async function adminCall(target: AdminTarget, method: string, path: string, body?: unknown, options?: RequestOptions): Promise<any> {
  const answer = await adminRequest(target, method, path, body, options);
  if (answer.status >= 400) {
    const p = answer.body ?? {};
    // The field errors too: "Invalid request body (400)" alone does not say what to fix.
    // (Those the detail does not already spell out.)
    const fields = Array.isArray(p.errors)
      ? p.errors
          .map((e: { field?: string; message?: string }) => `${e.field || '(body)'}: ${e.message}`)
          .filter((line: string) => !String(p.detail ?? '').includes(line))
          .map((line: string) => `\n  ${line}`)
          .join('')
      : '';
    throw new BerthError(p.code ?? `http.${answer.status}`, `${p.title ?? 'refused'}${p.detail ? `: ${p.detail}` : ''} (${answer.status})${fields}`, {
      status: answer.status,
      problem: p,
    });
  }
  return answer.body;
}
