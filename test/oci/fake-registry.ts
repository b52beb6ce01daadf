import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** A scripted HTTP server on 127.0.0.1 that plays a broken or hostile registry. */
export interface FakeRegistry {
  host: string;
  requests: Array<{ method: string; url: string; authorization?: string }>;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export async function startFakeRegistry(handler: Handler): Promise<FakeRegistry> {
  const requests: FakeRegistry['requests'] = [];
  const server: Server = createServer((req, res) => {
    const entry: FakeRegistry['requests'][number] = { method: req.method ?? '', url: req.url ?? '' };
    if (req.headers.authorization) entry.authorization = req.headers.authorization;
    requests.push(entry);
    req.resume();
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
