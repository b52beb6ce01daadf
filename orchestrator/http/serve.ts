import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './env.js';

export interface TlsMaterial {
  /** Server private key (PEM). */
  key: string;
  /** Server certificate followed by its intermediates (PEM). */
  cert: string;
  /** CA certificates a client certificate may chain to (PEM each). */
  ca: string[];
}

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  /** New connections use the new material (after a CA rotation); existing ones keep theirs. */
  updateTls(tls: TlsMaterial): void;
  close(): Promise<void>;
}

function secureContext(tls: TlsMaterial): SecureContextOptions {
  return { key: tls.key, cert: tls.cert, ca: tls.ca, minVersion: 'TLSv1.3', ecdhCurve: 'P-256' };
}

/**
 * HTTPS with an optional client certificate: the handshake never rejects (so the reason can be
 * logged and answered as a problem); device routes check `socket.authorized` themselves.
 */
export function serveHttps(app: Hono<AppEnv>, tls: TlsMaterial, host = '127.0.0.1', port = 0): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: app.fetch,
      hostname: host,
      port,
      createServer,
      serverOptions: { ...secureContext(tls), requestCert: true, rejectUnauthorized: false },
    }) as Server;
    server.headersTimeout = 20_000;
    server.requestTimeout = 30_000;
    server.keepAliveTimeout = 30_000;
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address() as AddressInfo;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        server,
        port: address.port,
        url: `https://${shownHost}:${address.port}`,
        updateTls: (next) => server.setSecureContext(secureContext(next)),
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
