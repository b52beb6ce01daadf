import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initRepository } from '../cli/tuf/ceremony.js';
import { silentLogger } from '../common/logger.js';
import { adminCall, socketTarget } from '../orchestrator/admin/client.js';
import { startControlPlane } from '../orchestrator/control-plane.js';
import { pinRoot, TufTrustClient } from '../trust/tuf/client.js';
import { HttpsTufFetcher } from '../trust/tuf/https-fetcher.js';
import { tufRootFingerprint } from '../trust/tuf/root.js';
import { FLEET_TARGETS } from '../wire/tuf.js';
import { percentile, type BenchResult, type Figure } from './report.js';

const PATHS = Object.values(FLEET_TARGETS);

/**
 * `npm run bench -- tuf [--quick]` (issue 16): what a device's TUF update round costs against a
 * real control plane (PGlite, loopback TLS): with nothing changed (the common case: one
 * timestamp fetched, everything else verified from the local copies), over a fresh TLS connection
 * and over a kept-alive one, and after the trust documents changed (new targets, snapshot,
 * timestamp and one document). Target: under 50 ms when nothing changed. Rounds are bounded in
 * count and time.
 */
export async function run(argv: string[]): Promise<BenchResult> {
  const rounds = argv.includes('--quick') ? 30 : 300;
  const scratch = mkdtempSync(join(tmpdir(), 'berth-bench-tuf-'));
  const cp = await startControlPlane({ dataDir: join(scratch, 'cp'), trustDomain: 'bench.test', logger: silentLogger, authorityRefreshMs: 0 });
  try {
    const admin = socketTarget(join(scratch, 'cp'));
    await initRepository((method, path, body) => adminCall(admin, method, path, body), { keys: 3, threshold: 2, out: join(scratch, 'offline') });
    const ca = cp.deps.authority.roots().map((r) => r.toString('pem'));
    const device = async (name: string, fetcher: HttpsTufFetcher) => {
      const dir = join(scratch, name);
      const root = readFileSync(join(scratch, 'offline', '1.root.json'));
      await pinRoot(dir, root, tufRootFingerprint(root));
      const client = new TufTrustClient({ dir, url: cp.url, fetcher });
      await client.update(PATHS);
      return client;
    };
    const fresh = await device('fresh', new HttpsTufFetcher({ ca }));
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca });
    const kept = await device('kept', new HttpsTufFetcher({ ca, agent: keepAlive }));
    const figures: Figure[] = [
      ...(await timed('update round, nothing changed, new TLS connection', rounds, () => fresh.update(PATHS))),
      ...(await timed('update round, nothing changed, kept-alive connection', rounds, () => kept.update(PATHS))),
    ];
    let n = 0;
    figures.push(
      ...(await timed(
        'update round after a trust document changed',
        Math.min(rounds, 50),
        async () => {
          await cp.deps.store.query('INSERT INTO vendors (name, trust_policy) VALUES ($1, $2)', [`bench-${n++}`, { vendor: 'bench', publicKeys: [] }]);
          await cp.deps.tuf!.keepCurrent();
          await kept.update(PATHS);
        },
        'includes signing the new metadata on the control plane',
      )),
    );
    keepAlive.destroy();
    const nothing = figures[0]!;
    return {
      bench: 'tuf',
      figures,
      notes: [
        `target (issue 16): a round with nothing changed under 50 ms: ${nothing.value < 50 ? 'met' : 'NOT met'} (p50 ${nothing.value.toFixed(2)} ms, new connection)`,
      ],
    };
  } finally {
    await cp.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** p50 and p95 of `count` runs, stopping early after 60 s. */
async function timed(name: string, count: number, work: () => Promise<unknown>, note?: string): Promise<Figure[]> {
  const samples: number[] = [];
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    const start = performance.now();
    await work();
    samples.push(performance.now() - start);
  }
  const of = `${samples.length} rounds${note ? `; ${note}` : ''}`;
  return [
    { name: `${name}, p50`, value: percentile(samples, 50), unit: 'ms', note: of },
    { name: `${name}, p95`, value: percentile(samples, 95), unit: 'ms' },
  ];
}
