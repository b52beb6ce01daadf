import { request } from 'node:https';
import { BerthError } from '../../common/errors.js';

/** What an operator or vendor script needs of the control plane's API: JSON over verified HTTPS with a bearer token. */
export interface OperatorClient {
  call<T = any>(method: string, path: string, body?: unknown): Promise<T>;
}

const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export function operatorClient(baseUrl: string, ca: string | string[], token: string): OperatorClient {
  return {
    call: (method, path, body) =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = request(
          new URL(path, baseUrl),
          {
            method,
            ca,
            minVersion: 'TLSv1.3',
            agent: false,
            timeout: 60_000,
            headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size > MAX_ANSWER_BYTES) req.destroy(new BerthError('client.answer_too_large', `${method} ${path}: answer over ${MAX_ANSWER_BYTES} bytes`));
              else chunks.push(c);
            });
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: any;
              try {
                parsed = text ? JSON.parse(text) : undefined;
              } catch {
                return reject(new BerthError('client.bad_answer', `${method} ${path}: answer ${res.statusCode} is not JSON`));
              }
              const status = res.statusCode ?? 0;
              if (status >= 200 && status < 300) return resolve(parsed);
              const fields = Array.isArray(parsed?.errors) ? parsed.errors.map((e: { field?: string; message?: string }) => `${e.field}: ${e.message}`).join('; ') : undefined;
              reject(new BerthError(parsed?.code ?? `http.${status}`, `${method} ${path}: ${status} ${parsed?.detail ?? fields ?? parsed?.title ?? text}`));
            });
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new BerthError('client.timeout', `${method} ${path}: no answer within 60 s`)));
        req.on('error', reject);
        req.end(payload);
      }),
  };
}
