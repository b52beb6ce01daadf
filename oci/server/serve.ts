import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Logger } from '../../common/logger.js';
import { registryApp } from './routes.js';
import { RegistryStorage } from './storage.js';

export interface RegistryServerOptions {
  /** Storage root (created if missing). */
  dir: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** PEM key and certificate chain: HTTPS; plain HTTP without. */
  tls?: { key: string; cert: string };
  readOnly?: boolean;
  maxBlobBytes?: number;
  logger?: Logger;
}

export interface RunningRegistryServer {
  /** `host:port`, as `oci://` references and RegistryClient write it. */
  host: string;
  port: number;
  url: string;
  storage: RegistryStorage;
  close(): Promise<void>;
}

/** The embedded registry (`berth registry`, the demo, tests) on one address. */
export async function startRegistryServer(options: RegistryServerOptions): Promise<RunningRegistryServer> {
  const storage = await RegistryStorage.open(options.dir);
  const app = registryApp({
    storage,
    ...(options.readOnly ? { readOnly: true } : {}),
    ...(options.maxBlobBytes !== undefined ? { maxBlobBytes: options.maxBlobBytes } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const hostname = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve({
      fetch: app.fetch,
      hostname,
      port: options.port ?? 0,
      ...(options.tls
        ? { createServer: createHttpsServer, serverOptions: { key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' as const } }
        : { createServer: createHttpServer }),
    }) as Server;
    server.headersTimeout = 20_000;
    // Long enough for a large blob on a slow link; a stalled client is cut off by the idle timeout.
    server.requestTimeout = 15 * 60_000;
    server.timeout = 60_000;
    server.keepAliveTimeout = 30_000;
    server.once('error', reject);
    server.once('listening', () => {
      const port = (server.address() as AddressInfo).port;
      const shown = hostname.includes(':') ? `[${hostname}]` : hostname;
      resolve({
        host: `${shown}:${port}`,
        port,
        url: `${options.tls ? 'https' : 'http'}://${shown}:${port}`,
        storage,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
