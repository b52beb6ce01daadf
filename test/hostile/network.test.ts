import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpGateway } from '../../runtime/gateway/gateway.js';
import { serveSupervisedApp } from '../../runtime/gateway/supervised.js';
import { httpHostHandlers } from '../../runtime/http/handlers.js';
import type { Lookup } from '../../runtime/http/resolve.js';
import type { AppSupervisor } from '../../runtime/supervisor.js';
import { bytes, hostileBench, TIERS } from './support.js';

/** A loopback server that records every request that reaches it. */
function recordingServer(): { server: Server; hits: string[]; port: () => number } {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/redirect') res.writeHead(302, { location: `http://127.0.0.2:${(server.address() as AddressInfo).port}/secret` }).end();
    else res.writeHead(200).end('reached');
  });
  return { server, hits, port: () => (server.address() as AddressInfo).port };
}

// A name that resolves to loopback, as a DNS-rebinding attacker's name would.
const lookup: Lookup = async (host) => {
  if (host === 'rebind.attacker.test' || host === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
};

/** Hostile apps on the network: unauthorised hosts, and answers meant to hurt the gateway. */
for (const tier of TIERS)
  describe(`hostile network, ${tier} tier`, () => {
    const target = recordingServer();
    beforeAll(() => new Promise<void>((r) => target.server.listen(0, '127.0.0.1', r)));
    afterAll(() => new Promise<void>((r) => target.server.close(() => r())));
    const bench = hostileBench(`network-${tier}`, { hostHandlers: (spec) => httpHostHandlers(spec, { lookup }) });
    let client: AppSupervisor;

    beforeAll(async () => {
      const p = target.port();
      client = await bench.runtime.startApp(bytes('http-client'), {
        vendor: 'mallory',
        app: 'exfil',
        tier,
        grants: {
          config: {
            values: {
              granted: `http://localhost:${p}/ok`,
              otherHost: `http://127.0.0.2:${p}/secret`,
              otherPort: `http://localhost:${p + 1}/secret`,
              // The same server by its address, when only its name was granted.
              byIp: `http://127.0.0.1:${p}/secret`,
              redirect: `http://localhost:${p}/redirect`,
              // A granted wildcard name that resolves to an internal address.
              rebind: `http://rebind.attacker.test:${p}/secret`,
            },
          },
          'outbound-http': { allow: [`http://localhost:${p}`, `http://*.attacker.test:${p}`], timeoutMs: 2_000 },
        },
        limits: { cpuDeadlineMs: 10_000 },
      });
    });

    it('reaches its granted origin (the control case)', async () => {
      expect(await client.invoke('fetch-url', ['granted'])).toEqual({ ok: true, value: '200 reached' });
    });

    for (const key of ['otherHost', 'otherPort', 'byIp', 'rebind']) {
      it(`is refused without any connection reaching the target: ${key}`, async () => {
        const before = target.hits.length;
        await bench.whileNeighbourAnswers(async () => {
          const outcome = await client.invoke('fetch-url', [key]);
          expect(outcome).toMatchObject({ ok: false, failure: { kind: 'app-error' } });
        });
        expect(target.hits.length).toBe(before);
      });
    }

    it('gets a redirect to another host back as it is; nothing follows it', async () => {
      const before = target.hits.length;
      expect(await client.invoke('fetch-url', ['redirect'])).toEqual({ ok: true, value: '302 ' });
      expect(target.hits.slice(before)).toEqual(['/redirect']);
    });

    it('cannot hurt the gateway: a huge response is cut (502), a never-answering handler times out (504)', async () => {
      const server = await bench.runtime.startApp(bytes('http-server'), {
        vendor: 'mallory',
        app: 'bad-server',
        tier,
        grants: { 'inbound-http': { route: '/bad', maxResponseBytes: 256 * 1024, timeoutMs: 10_000 }, clocks: {} },
        limits: { cpuDeadlineMs: 1_000 },
      });
      const gateway = new HttpGateway({});
      serveSupervisedApp(gateway, server);
      const port = await gateway.listen();
      try {
        await bench.whileNeighbourAnswers(async () => {
          expect((await fetch(`http://127.0.0.1:${port}/bad/huge`)).status).toBe(502);
          expect((await fetch(`http://127.0.0.1:${port}/bad/hang`)).status).toBe(504);
        });
      } finally {
        await gateway.close();
        await server.stop();
      }
    });
  });
