import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { rawExchange } from '../support/raw-exchange.js';

/**
 * A request whose bytes are wrong (bad chunking, a body cut short, lengths that lie, a body too
 * large) is the client's fault: a 4xx or a closed connection, logged at most at warn. Only a
 * bug in the control plane writes an error-level line, so nobody can flood the error log
 * without credentials (issue #12, defect 3). Sent over raw TLS: no HTTP client sends these.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const PINO_ERROR = 50;

function send(h: Harness, parts: string[], endAfterWrite = false): Promise<string> {
  const url = new URL(h.cp.url);
  return rawExchange(
    () => ({ socket: connect({ host: url.hostname, port: Number(url.port), ca: h.ca, minVersion: 'TLSv1.3' }), ready: 'secureConnect' }),
    parts,
    endAfterWrite,
  );
}

const head = (headers: string) => `POST /api/v1/onboarding HTTP/1.1\r\nHost: cp.test\r\nContent-Type: application/json\r\n${headers}\r\n`;

const cases: [string, string[], boolean][] = [
  ['a chunk size that is not hex', [head('Transfer-Encoding: chunked\r\n'), '{"a":1}\r\n', 'ZZZ\r\nabc\r\n0\r\n\r\n'], false],
  ['a chunk longer than its size says', [head('Transfer-Encoding: chunked\r\n'), '2\r\nabcdef\r\n0\r\n\r\n'], false],
  ['a chunked body cut off mid-chunk', [head('Transfer-Encoding: chunked\r\n'), '40\r\n{"method":"token"'], true],
  ['a body shorter than its Content-Length', [head('Content-Length: 500\r\n'), '{"method":"token"'], true],
  ['a Content-Length that is not a number', [head('Content-Length: 12abc\r\n'), '{}'], false],
  ['both Content-Length and chunked', [head('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'), '5\r\n{"a":\r\n0\r\n\r\n'], false],
  [
    'a bad chunk on the public timestamp authority',
    [
      'POST /api/v1/timestamp HTTP/1.1\r\nHost: cp.test\r\nContent-Type: application/timestamp-query\r\nTransfer-Encoding: chunked\r\n\r\n',
      '3\r\nabc\r\n',
      'XYZ\r\n',
    ],
    false,
  ],
  [
    'a body shorter than its Content-Length on the timestamp authority',
    ['POST /api/v1/timestamp HTTP/1.1\r\nHost: cp.test\r\nContent-Type: application/timestamp-query\r\nContent-Length: 900\r\n\r\n', '0\x82'],
    true,
  ],
  ['an oversized chunked body', [head('Transfer-Encoding: chunked\r\n'), ...Array.from({ length: 8 }, () => `2710\r\n${'A'.repeat(10_000)}\r\n`)], false],
];

describe('malformed request bytes are a 4xx or a closed connection, never an error-level log line', () => {
  it.each(cases)('%s', async (_name, parts, endAfterWrite) => {
    const before = h.logs.length;
    const answer = await send(h, parts, endAfterWrite);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
    if (status !== undefined) {
      expect(Number(status), answer.slice(0, 300)).toBeGreaterThanOrEqual(400);
      expect(Number(status), answer.slice(0, 300)).toBeLessThan(500);
    }
    // The server has finished with the request once the connection is closed; give its log a tick.
    await new Promise((r) => setTimeout(r, 100));
    const errors = h.logs.slice(before).filter((l) => Number(l.level) >= PINO_ERROR);
    expect(errors).toEqual([]);
  });

  it('the control plane still answers afterwards', async () => {
    const answer = await send(h, ['GET /.well-known/margo HTTP/1.1\r\nHost: cp.test\r\nConnection: close\r\n\r\n']);
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
  });
});
