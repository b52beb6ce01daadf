import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './env.js';

/**
 * The operator API on a Unix socket in the data directory (mode 0600): whoever can open it is
 * the local administrator. This is how the first token is created from the command line while
 * the control plane holds the embedded store open.
 */
export function serveAdminSocket(app: Hono<AppEnv>, path: string): Promise<{ close(): Promise<void> }> {
  rmSync(path, { force: true }); // a socket file left by a killed process
  const listener = getRequestListener((request, env) => app.fetch(request, { ...(env as AppEnv['Bindings']), localAdmin: true }));
  const server: Server = createServer(listener);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const previous = process.umask(0o177);
    server.listen(path, () => {
      process.umask(previous);
      chmodSync(path, 0o600);
      resolve({
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
