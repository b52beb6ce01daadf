import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { httpHostHandlers } from '../../runtime/http/handlers.js';
import type { Lookup } from '../../runtime/http/resolve.js';
import { Runtime } from '../../runtime/runtime.js';
import type { AppSupervisor } from '../../runtime/supervisor.js';
import { fixturePath } from '../fixtures/build.js';
import { waitFor } from '../support/app-logs.js';
import { suiteTempDir } from '../support/tmp.js';
import { loopbackServer } from './servers.js';

const server = loopbackServer({
  '/hello': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from the server'),
  '/redirect': (_req, res) => res.writeHead(302, { location: `http://127.0.0.2:${server.port}/hello` }).end(),
  '/big': (_req, res) => res.writeHead(200).end(Buffer.alloc(64 * 1024, 0x61)),
  '/hang': () => {},
});

const lookup: Lookup = async (host) => {
  if (host === 'rebind.test' || host === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
};

describe.each(['worker', 'instance', 'process'] as const)('an app fetching over outbound-http (guest → host → 127.0.0.1 → guest), %s tier', (tier) => {
  const dataDir = suiteTempDir(`http-client-${tier}`);
  const logLines: string[] = [];
  let runtime: Runtime;
  let app: AppSupervisor;

  beforeAll(async () => {
    const logger = createLogger({ name: 'test', level: 'trace' }, { write: (line: string) => void logLines.push(line) });
    runtime = new Runtime({ dataDir, logger, hostHandlers: (spec) => httpHostHandlers(spec, { lookup, logger }) });
    const p = server.port;
    const values = {
      ok: `http://127.0.0.1:${p}/hello`,
      otherHost: `http://127.0.0.2:${p}/hello`,
      otherPort: `http://127.0.0.1:${p + 1}/hello`,
      otherScheme: `https://127.0.0.1:${p}/hello`,
      byName: `http://localhost:${p}/hello`,
      redirect: `http://127.0.0.1:${p}/redirect`,
      rebind: `http://rebind.test:${p}/hello`,
      big: `http://127.0.0.1:${p}/big`,
      hang: `http://127.0.0.1:${p}/hang`,
    };
    app = await runtime.startApp(readFileSync(fixturePath('http-client')), {
      vendor: 'acme',
      app: 'client',
      grants: {
        config: { values },
        'outbound-http': { allow: [`http://127.0.0.1:${p}`, `http://*.test:${p}`], maxResponseBytes: 16 * 1024, timeoutMs: 1_000 },
      },
      limits: { cpuDeadlineMs: 10_000 },
      tier,
    });
  });
  afterAll(async () => runtime?.close());

  const fetchUrl = (key: string) => app.invoke('fetch-url', [key]);
  const failureOf = async (key: string) => {
    const outcome = await fetchUrl(key);
    expect(outcome.ok, JSON.stringify(outcome)).toBe(false);
    return outcome.ok ? undefined : outcome.failure;
  };

  it('is refused at start without the outbound-http grant (inbound-http gives only the types)', async () => {
    await expect(
      runtime.startApp(readFileSync(fixturePath('http-client')), {
        vendor: 'acme',
        app: 'no-grant',
        grants: { config: {}, 'inbound-http': { route: '/x' } },
        tier,
      }),
    ).rejects.toThrow(/wasi:http\/outgoing-handler@0\.2\.10 needs the "outbound-http" grant/);
  });

  it('fetches a granted origin end to end', async () => {
    expect(await fetchUrl('ok')).toEqual({ ok: true, value: '200 hello from the server' });
  });

  for (const key of ['otherHost', 'otherPort', 'otherScheme', 'byName']) {
    it(`is refused before any connection: ${key}`, async () => {
      const before = server.hits.length;
      const failure = await failureOf(key);
      expect(failure).toMatchObject({ kind: 'app-error' });
      expect(server.hits.length).toBe(before);
      await waitFor(
        () => logLines.some((l) => l.includes('outbound HTTP refused') && l.includes('not in the outbound-http grant')),
        5_000,
        'the refusal in the app log',
      );
    });
  }

  it('gets a redirect to a non-granted origin as a 3xx, not followed', async () => {
    const before = server.hits.length;
    const outcome = await fetchUrl('redirect');
    // fetch's default redirect mode would follow: the host hands back the 302 and the guest's
    // next request (to 127.0.0.2) is checked like any other and refused.
    expect(outcome).toEqual({ ok: true, value: '302 ' });
    expect(server.hits.slice(before)).toEqual(['GET /redirect']);
  });

  it('refuses a granted name that resolves to loopback (rebinding), with a security event', async () => {
    const before = server.hits.length;
    expect(await failureOf('rebind')).toMatchObject({ kind: 'app-error' });
    expect(server.hits.length).toBe(before);
    expect(logLines.some((l) => l.includes('outbound-http-refused') && l.includes('rebind.test'))).toBe(true);
  });

  const logged = (text: string) => waitFor(() => logLines.some((l) => l.includes(text)), 5_000, `a log line with "${text}"`);

  it('fails a response over the size limit', async () => {
    expect(await failureOf('big')).toMatchObject({ kind: 'app-error' });
    await logged('response body over the 16384-byte limit');
  });

  it('fails a hanging server at the time limit, and keeps working after', async () => {
    expect(await failureOf('hang')).toMatchObject({ kind: 'app-error' });
    await logged('no complete response within 1000 ms');
    expect(await fetchUrl('ok')).toEqual({ ok: true, value: '200 hello from the server' });
  });
});

describe('the runtime wires outbound-http by default', () => {
  const dataDir = suiteTempDir('http-default');
  let runtime: Runtime | undefined;
  afterAll(async () => runtime?.close());

  it('serves a granted fetch with no host handler passed in', async () => {
    runtime = new Runtime({ dataDir });
    const app = await runtime.startApp(readFileSync(fixturePath('http-client')), {
      vendor: 'acme',
      app: 'plain',
      grants: { config: { values: { ok: `http://127.0.0.1:${server.port}/hello` } }, 'outbound-http': { allow: [`http://127.0.0.1:${server.port}`] } },
    });
    expect(await app.invoke('fetch-url', ['ok'])).toEqual({ ok: true, value: '200 hello from the server' });
  });
});
