import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/** A loopback HTTP server for one suite: routes by path, started on a free port. */
export interface TestServer {
  port: number;
  url: (path: string) => string;
  hits: string[];
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

export function loopbackServer(routes: Record<string, Route>): TestServer {
  const server: TestServer = { port: 0, url: (p) => `http://127.0.0.1:${server.port}${p}`, hits: [] };
  const hanging = new Set<http.ServerResponse>();
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      server.hits.push(`${req.method} ${req.url}`);
      const route = routes[path];
      if (!route) {
        res.writeHead(404).end('no route');
        return;
      }
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      route(req, res, Buffer.concat(chunks));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    server.port = (srv.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const res of hanging) res.destroy();
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  return server;
}
