import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../runtime/runtime.js';
import { fixturePath } from '../fixtures/build.js';
import { suiteTempDir } from '../support/tmp.js';

describe('HTTP bytes in the app account', () => {
  const server = createServer((_req, res) => res.writeHead(200).end('x'.repeat(1000)));
  beforeAll(() => new Promise<void>((r) => server.listen(0, '127.0.0.1', r)));
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('counts the body bytes of answered outbound requests, and nothing for refused ones', async () => {
    const runtime = new Runtime({ dataDir: suiteTempDir('http-bytes') });
    try {
      const port = (server.address() as AddressInfo).port;
      const app = await runtime.startApp(readFileSync(fixturePath('http-client')), {
        vendor: 'acme',
        app: 'counted',
        grants: {
          config: { values: { ok: `http://127.0.0.1:${port}/`, refused: `http://127.0.0.2:${port}/` } },
          'outbound-http': { allow: [`http://127.0.0.1:${port}`] },
        },
      });
      expect(await app.invoke('fetch-url', ['ok'])).toEqual({ ok: true, value: `200 ${'x'.repeat(1000)}` });
      expect(await app.invoke('fetch-url', ['refused'])).toMatchObject({ ok: false });
      expect(app.usage()!.bytes).toEqual({ in: 1000, out: 0 });
    } finally {
      await runtime.close();
    }
  });
});
