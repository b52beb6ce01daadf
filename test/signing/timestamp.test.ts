import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTimestampAuthority, type TimestampAuthority } from '../../trust/signing/timestamp-authority.js';
import { requestTimestamp } from '../../trust/signing/timestamp-client.js';
import { createSigningCa, type SigningCa } from '../../trust/signing/fleet-ca.js';
import { main } from '../../cli/main.js';

type Mode = 'ok' | 'html' | 'reject-all' | 'replay' | 'garbage';

describe('RFC 3161 over HTTP', () => {
  let tsa: TimestampAuthority;
  let ca: SigningCa;
  let server: Server;
  let url = '';
  let mode: Mode = 'ok';
  let dir: string;

  beforeAll(async () => {
    [tsa, ca] = await Promise.all([createTimestampAuthority(), createSigningCa()]);
    dir = await mkdtemp(join(tmpdir(), 'berth-tsa-'));
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (mode === 'html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
        if (mode === 'garbage') return void res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end('not der');
        const answer = mode === 'replay' ? tsa.timestamp(Buffer.from('old signature')) : tsa.respond(mode === 'reject-all' ? Buffer.from('x') : body);
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(answer);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/tsa`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('gets a token over the data with our nonce', async () => {
    mode = 'ok';
    const token = await requestTimestamp(url, Buffer.from('a signature'));
    expect(token.byteLength).toBeGreaterThan(200);
  });

  it.each([
    ['html', /expected application\/timestamp-reply/],
    ['garbage', /not a DER TimeStampResp/],
    ['reject-all', /refused: request is not a DER TimeStampReq/],
    ['replay', /stamped other data/],
  ] as const)('refuses a %s answer', async (m, why) => {
    mode = m;
    await expect(requestTimestamp(url, Buffer.from('a signature'), { attempts: 1 })).rejects.toMatchObject({
      code: 'signing.timestamp',
      message: expect.stringMatching(why),
    });
  });

  it('berth sign --cert --tsa-url, then berth verify with the fleet roots and an identity policy', async () => {
    mode = 'ok';
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const p = (n: string): string => join(dir, n);
    await writeFile(p('leaf.key'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await writeFile(p('leaf.pem'), await ca.issue({ publicKey: keys.publicKey, subject: 'https://ci.acme.example/p', issuer: 'https://fleet.example' }));
    await writeFile(p('ca.pem'), ca.certPem);
    await writeFile(p('tsa.pem'), tsa.certChainPem.join('\n'));
    await writeFile(p('c.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, ...randomBytes(64)]));
    await writeFile(
      p('policy.json'),
      JSON.stringify({ vendor: 'acme', identities: [{ subject: 'https://ci\\.acme\\.example/.+', issuer: 'https://fleet\\.example' }] }),
    );

    let out = '';
    let err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
    try {
      expect(await main(['sign', p('c.wasm'), '--key', p('leaf.key'), '--cert', p('leaf.pem'), '--tsa-url', url])).toBe(0);
      expect(await main(['verify', p('c.wasm'), '--policy', p('policy.json'), '--signing-ca', p('ca.pem'), '--tsa-chain', p('tsa.pem')])).toBe(0);
      expect(out).toMatch(/verified .*\n  vendor acme, https:\/\/ci\.acme\.example\/p \(issuer https:\/\/fleet\.example, timestamped /);
      // Without the TSA chain the timestamp cannot be trusted, so the certificate cannot be either.
      expect(await main(['verify', p('c.wasm'), '--policy', p('policy.json'), '--signing-ca', p('ca.pem')])).toBe(1);
      expect(err).toMatch(/timestamp/);
      expect(await main(['sign', p('c.wasm'), '--key', p('leaf.key'), '--cert', p('leaf.pem')])).toBe(2);
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  });
});
