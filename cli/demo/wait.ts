import { request } from 'node:http';
import { BerthError } from '../../common/errors.js';

/** Polls `check` until it holds, at most `ms`; the error says what was awaited. */
export async function waitUntil(ms: number, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new BerthError('demo.timeout', `gave up waiting for ${what} after ${ms / 1000} s (see the log file)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One GET to a device's app gateway on loopback; JSON answers parsed. */
export function gatewayGet(port: number, path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        if (res.headers['content-type'] === 'application/json') {
          try {
            body = JSON.parse(text);
          } catch {
            /* left as text */
          }
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new BerthError('demo.timeout', `GET ${path} on port ${port}: no answer within 10 s`)));
    req.on('error', reject);
    req.end();
  });
}
