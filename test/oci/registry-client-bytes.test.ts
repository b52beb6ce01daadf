import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { startRegistryServer, type RunningRegistryServer } from '../../oci/server/serve.js';
import { rawExchange } from '../support/raw-exchange.js';

/**
 * The embedded registry, like the control plane, answers a request whose bytes are wrong (bad
 * chunking, a body cut short) as the client's fault: a 4xx or a closed connection, never an
 * error-level log line, so nobody can flood its error log (issue #12, defect 3, its whole class).
 */
const PINO_ERROR = 50;
let dir: string;
let registry: RunningRegistryServer;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-registry-bytes-'));
  const logger = createLogger({ name: 'test-registry', level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  registry = await startRegistryServer({ dir, logger });
});
afterAll(async () => {
  await registry?.close();
  await rm(dir, { recursive: true, force: true });
});

function send(parts: string[], endAfterWrite: boolean): Promise<string> {
  const url = new URL(registry.url);
  return rawExchange(() => ({ socket: connect({ host: url.hostname, port: Number(url.port) }), ready: 'connect' }), parts, endAfterWrite);
}

async function uploadLocation(): Promise<string> {
  const res = await fetch(`${registry.url}/v2/acme/app/blobs/uploads/`, { method: 'POST' });
  expect(res.status).toBe(202);
  return new URL(res.headers.get('location')!, registry.url).pathname + (new URL(res.headers.get('location')!, registry.url).search || '');
}

const put = (path: string, headers: string) => `PATCH ${path} HTTP/1.1\r\nHost: registry.test\r\nContent-Type: application/octet-stream\r\n${headers}\r\n`;
const manifest = (headers: string) =>
  `PUT /v2/acme/app/manifests/1.0.0 HTTP/1.1\r\nHost: registry.test\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n${headers}\r\n`;

describe('the embedded registry and broken request bytes', () => {
  const cases: [string, (path: string) => string[], boolean][] = [
    ['an upload chunk whose size is not hex', (p) => [put(p, 'Transfer-Encoding: chunked\r\n'), '3\r\nabc\r\n', 'ZZZ\r\nabc\r\n0\r\n\r\n'], false],
    ['an upload cut short of its Content-Length', (p) => [put(p, 'Content-Length: 5000\r\n'), 'abc'], true],
    ['an upload cut off mid-chunk', (p) => [put(p, 'Transfer-Encoding: chunked\r\n'), '400\r\nabc'], true],
    ['a manifest cut short of its Content-Length', () => [manifest('Content-Length: 900\r\n'), '{"schemaVersion":2'], true],
    ['a manifest with a bad chunk', () => [manifest('Transfer-Encoding: chunked\r\n'), '2\r\n{"\r\n', 'XYZ\r\n'], false],
  ];
  for (const [name, parts, end] of cases) {
    it(`${name}: a 4xx or a closed connection, and no error-level log line`, async () => {
      const before = logs.length;
      const answer = await send(parts(await uploadLocation()), end);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
      if (status !== undefined) expect(Number(status)).toBeLessThan(500);
      // The server has had its chance to log the failure once the exchange is over.
      await new Promise((r) => setTimeout(r, 200));
      const errors = logs.slice(before).filter((l) => Number(l.level) >= PINO_ERROR);
      expect(errors, JSON.stringify(errors)).toEqual([]);
    });
  }

  it('still serves a well-formed upload afterwards', async () => {
    const res = await fetch(`${registry.url}/v2/acme/app/blobs/uploads/`, { method: 'POST' });
    expect(res.status).toBe(202);
  });
});
