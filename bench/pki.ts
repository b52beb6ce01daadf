import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../common/logger.js';
import { createEnrollmentToken } from '../orchestrator/admin/tokens.js';
import { startControlPlane } from '../orchestrator/control-plane.js';
import { enroll } from '../runtime/agent/enroll.js';
import { createIntermediateCa, createRootCa, issueDeviceCertificate } from '../trust/authority.js';
import { generateP256 } from '../trust/x509.js';
import type { BenchResult, Figure } from './report.js';

/**
 * `npm run bench -- pki [--quick]`: certificate issuance, mTLS requests (kept-alive and new
 * connections) and whole onboarding round trips against a real control plane on 127.0.0.1
 * with the embedded store. Every loop is bounded by a count and a time limit.
 */
export async function run(argv: string[]): Promise<BenchResult> {
  const quick = argv.includes('--quick');
  const figures: Figure[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'berth-bench-pki-'));
  try {
    // Issuance alone: sign a device certificate for a fresh public key (key generation excluded).
    const root = await createRootCa('bench.test');
    const issuing = await createIntermediateCa(root, 'bench.test');
    const keys = await Promise.all(Array.from({ length: 50 }, () => generateP256()));
    const issued = await bounded(quick ? 300 : 2000, 10_000, 1, async (i) => {
      await issueDeviceCertificate(issuing, 'bench.test', `dev-${i}`, keys[i % keys.length]!.publicKey, { lifetimeMs: 86_400_000 });
    });
    figures.push({ name: 'certificate issuance', value: issued.perSecond, unit: '/s', note: `${issued.count} device certificates, P-256, one thread` });

    const cp = await startControlPlane({ dataDir: join(scratch, 'cp'), trustDomain: 'bench.test', logger: silentLogger, adminSocket: false });
    try {
      const ca = cp.deps.authority.roots().map((r) => r.toString('pem'));
      const token = async () => (await createEnrollmentToken(cp.deps.store, silentLogger, { ttlSeconds: 600, by: 'bench' })).token;
      const device = await enroll({ url: cp.url, ca, dir: join(scratch, 'dev'), credential: { kind: 'token', token: await token() } });
      const url = `${cp.url}/api/v1/identity`;

      const keepAlive = new Agent({ keepAlive: true, maxSockets: 8, ca, key: device.keyPem, cert: device.certificatePem });
      const kept = await bounded(quick ? 1000 : 5000, 15_000, 8, () => get(url, keepAlive));
      keepAlive.destroy();
      figures.push({
        name: 'mTLS request, kept-alive',
        value: kept.perSecond,
        unit: 'req/s',
        note: `${kept.count} GET /api/v1/identity, 8 connections, policy checked per request`,
      });

      const fresh = await bounded(quick ? 100 : 500, 15_000, 8, () =>
        get(url, new Agent({ keepAlive: false, maxCachedSessions: 0, ca, key: device.keyPem, cert: device.certificatePem })),
      );
      figures.push({
        name: 'mTLS request, new connection',
        value: fresh.perSecond,
        unit: 'req/s',
        note: `${fresh.count} full TLS 1.3 handshakes, 8 at a time`,
      });

      const resumedAgent = new Agent({ keepAlive: false, ca, key: device.keyPem, cert: device.certificatePem });
      await get(url, resumedAgent);
      const resumed = await bounded(quick ? 100 : 500, 15_000, 1, () => get(url, resumedAgent));
      figures.push({
        name: 'mTLS request, resumed session',
        value: resumed.perSecond,
        unit: 'req/s',
        note: `${resumed.count} new connections from a session ticket, one at a time`,
      });

      const tokens = await Promise.all(Array.from({ length: quick ? 40 : 200 }, token));
      const onboarded = await bounded(tokens.length, 30_000, 4, (i) =>
        enroll({ url: cp.url, ca, dir: join(scratch, `d${i}`), credential: { kind: 'token', token: tokens[i]! } }).then(() => undefined),
      );
      figures.push({
        name: 'onboarding round trip',
        value: onboarded.perSecond,
        unit: '/s',
        note: `${onboarded.count} token onboardings (key + CSR + TLS + issue + store + files), 4 at a time`,
      });
    } finally {
      await cp.close();
    }
    return { bench: 'pki', figures, notes: ['control plane and clients share this machine; embedded PGlite store'] };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Runs `work` up to `count` times, `concurrency` at a time, stopping early after `limitMs`. */
async function bounded(count: number, limitMs: number, concurrency: number, work: (i: number) => Promise<void>): Promise<{ count: number; perSecond: number }> {
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < count && performance.now() - t0 < limitMs) {
      const i = next++;
      await work(i);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - t0) / 1000;
  return { count: done, perSecond: done / seconds };
}

function get(url: string, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}
