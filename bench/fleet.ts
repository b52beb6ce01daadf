import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:https';
import { closedUnderReuse } from '../runtime/agent/control-plane-client.js';
import { processTreeCpuSeconds, startBenchPostgres } from './fleet-postgres.js';
import { percentile, type BenchResult, type Figure } from './report.js';

/**
 * `npm run bench -- fleet --devices N [--timeout S]`: N simulated devices, each with its own
 * certificate and its own kept-alive mTLS connection, against a real control plane (its own
 * process, PGlite, 127.0.0.1). Each device fetches its manifest, then long-polls with its ETag;
 * one deployment on every device is created; a device has adopted it when it has the new
 * manifest, has fetched the ApplicationDeployment YAML and checked its digest, and its
 * `installed` status report was accepted. Bounded by --timeout (default 120 s).
 */
interface DeviceCreds {
  id: string;
  keyPem: string;
  certificatePem: string;
}

interface Answer {
  status: number;
  etag?: string;
  body: Buffer;
  /** Sent on a connection kept alive from an earlier request (no handshake). */
  reused: boolean;
}

/** Requests sent again because a kept-alive connection was closed by the server before it read them. */
let keepAliveRetries = 0;

/**
 * One request on the device's kept-alive connection. One that the server's keep-alive closed
 * under it (`closedUnderReuse`) is sent once more on a new connection, as the device agent does;
 * every request here is idempotent (GETs, and a status report is an upsert). Counted apart,
 * never hidden.
 */
function send(agent: Agent, ca: string[], url: string, method = 'GET', headers: Record<string, string> = {}, body?: string, retried = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, { method, agent, ca, headers: body ? { ...headers, 'content-type': 'application/json' } : headers }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag, body: Buffer.concat(chunks), reused: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!retried && !answered && closedUnderReuse(req, err)) {
        keepAliveRetries++;
        send(agent, ca, url, method, headers, body, true).then(resolve, reject);
      } else reject(retried ? new Error(`${err.message} (sent again on a new connection)`) : err);
    });
    req.end(body);
  });
}

function arg(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const v = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} takes a positive whole number`);
  return v;
}

const progress = (line: string): void => void process.stderr.write(`fleet: ${line}\n`);

async function limit<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export async function run(argv: string[]): Promise<BenchResult> {
  const n = arg(argv, '--devices', 1000);
  const timeoutMs = arg(argv, '--timeout', 120) * 1000;
  const deadline = Date.now() + timeoutMs + 600_000; // provisioning has its own, generous bound
  const profileAt = argv.indexOf('--profile');
  // `--profile DIR`: the control plane writes a V8 CPU profile there when it stops (node --cpu-prof).
  const profile = profileAt >= 0 && argv[profileAt + 1] ? ['--cpu-prof', `--cpu-prof-dir=${argv[profileAt + 1]}`] : [];
  // `--store postgres`: a PostgreSQL server (Debian postgresql-15) instead of the embedded PGlite.
  const storeAt = argv.indexOf('--store');
  const storeKind = storeAt >= 0 ? argv[storeAt + 1] : 'pglite';
  if (storeKind !== 'pglite' && storeKind !== 'postgres') throw new Error('--store takes pglite or postgres');
  const postgres = storeKind === 'postgres' ? await startBenchPostgres() : undefined;
  const env = postgres ? { ...process.env, BERTH_FLEET_STORE_URL: postgres.url } : process.env;
  const child: ChildProcess = fork(new URL('./fleet-control-plane.js', import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: ['--max-old-space-size=4096', ...profile],
    env,
  });
  const inbox: { kind: string; [k: string]: unknown }[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (m: { kind: string }) => {
    inbox.push(m as (typeof inbox)[number]);
    waiters.splice(0).forEach((w) => w());
  });
  type Msg = (typeof inbox)[number] & Record<string, any>;
  const next = async (...kinds: string[]): Promise<Msg> => {
    for (;;) {
      const i = inbox.findIndex((m) => kinds.includes(m.kind) || m.kind === 'error');
      if (i >= 0) {
        const [m] = inbox.splice(i, 1);
        if (m!.kind === 'error') throw new Error(`control plane: ${String(m!.message)}`);
        return m!;
      }
      if (Date.now() > deadline) throw new Error(`fleet bench: no '${kinds.join('/')}' from the control plane in time`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 1000).unref();
      });
    }
  };
  const agents: Agent[] = [];
  try {
    await next('ready');
    const provisionStart = Date.now();
    child.send({ kind: 'provision', devices: n });
    const creds: DeviceCreds[] = [];
    let provisioned: Msg | undefined;
    while (!provisioned) {
      const m = await next('devices', 'provisioned');
      if (m.kind === 'devices') {
        creds.push(...(m.devices as DeviceCreds[]));
        if (creds.length % 2000 < 250) progress(`provisioned ${creds.length}/${n}`);
      } else provisioned = m;
    }
    const provisionMs = Date.now() - provisionStart;
    progress(`${creds.length} devices provisioned in ${(provisionMs / 1000).toFixed(1)} s`);
    const url = provisioned.url as string;
    const ca = provisioned.ca as string[];

    const latencies: number[] = [];
    const notModified: number[] = [];
    const etags = new Map<string, string>();
    const device = creds.map((c) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, ca, key: c.keyPem, cert: c.certificatePem });
      agents.push(agent);
      return { ...c, agent };
    });
    // First contact: TLS handshake and the version-1 manifest, 200 devices at a time.
    await limit(device, 200, async (d) => {
      const t = performance.now();
      const a = await send(d.agent, ca, `${url}/api/v1/deployments`);
      latencies.push(performance.now() - t);
      if (a.status !== 200 || !a.etag) throw new Error(`${d.id}: first poll answered ${a.status}`);
      etags.set(d.id, a.etag);
    });
    progress(`first contact done (${device.length} mTLS connections)`);
    const adoptedAt: number[] = [];
    let deployStartedAt: number | undefined;
    let errors = 0;
    let stop = false;
    const longPolled = new Set<string>();
    const kinds = new Map<string, number>();
    const tally = (kind: string): void => void kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    const adopt = async (d: (typeof device)[number]): Promise<void> => {
      while (!stop) {
        longPolled.add(d.id);
        const sentAt = Date.now();
        const a = await send(d.agent, ca, `${url}/api/v1/deployments?wait=60`, 'GET', { 'if-none-match': etags.get(d.id)! }).catch((err: Error) => {
          const waited = Date.now() - sentAt;
          const kind = `poll ${deployStartedAt ? 'after' : 'before'} deploying, ${waited < 1000 ? 'within 1 s' : waited < 30_000 ? 'within 30 s' : 'after 30 s'}: ${err.message}`;
          tally(kind);
          return undefined;
        });
        if (!a || (a.status !== 200 && a.status !== 304)) {
          if (a) tally(`poll: ${a.status}`);
          errors++;
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        if (a.status === 304) continue;
        etags.set(d.id, a.etag!);
        const m = JSON.parse(a.body.toString('utf8')) as { manifestVersion: number; deployments: { deploymentId: string; digest: string; url: string }[] };
        const dep = m.deployments.find((x) => x.deploymentId === 'meter-everywhere');
        if (!dep) continue;
        const yaml = await send(d.agent, ca, url + dep.url);
        if (yaml.status !== 200 || `sha256:${createHash('sha256').update(yaml.body).digest('hex')}` !== dep.digest) {
          tally(`document: ${yaml.status}`);
          errors++;
          continue;
        }
        const status = JSON.stringify({
          deploymentId: dep.deploymentId,
          deviceId: d.id,
          adoptedManifestVersion: m.manifestVersion,
          status: { state: 'installed' },
        });
        const posted = await send(d.agent, ca, `${url}/api/v1/deployments/${dep.deploymentId}/status`, 'POST', {}, status);
        if (posted.status !== 201 && posted.status !== 200) {
          tally(`status: ${posted.status}`);
          errors++;
          continue;
        }
        adoptedAt.push(Date.now());
        return;
      }
    };
    // A conditional poll on a warm connection (what a steady fleet costs), then straight into the
    // long-poll loop on that connection: no device leaves its connection idle between the two,
    // as no real device would (an idle gap longer than the server's keep-alive timeout only
    // measures reconnects).
    const polling: Promise<void>[] = [];
    let conditionalReused = 0;
    await limit(device, 200, async (d) => {
      const t = performance.now();
      const a = await send(d.agent, ca, `${url}/api/v1/deployments`, 'GET', { 'if-none-match': etags.get(d.id)! });
      notModified.push(performance.now() - t);
      if (a.reused) conditionalReused++;
      if (a.status !== 304) throw new Error(`${d.id}: conditional poll answered ${a.status}`);
      polling.push(adopt(d));
    });
    // Deploy once every device has long-polled at least once and nearly all are parked right now:
    // with 10,000 devices some are always between a timed-out long-poll and the next, and those
    // see the change on that next poll (their ETag is stale at once).
    let parked = 0;
    for (;;) {
      child.send({ kind: 'stats' });
      parked = (await next('stats')).waiting as number;
      if (parked >= n || (longPolled.size === n && parked >= n * 0.99) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    progress(`${parked}/${n} parked on a long-poll; deploying`);
    child.send({ kind: 'stats' });
    const before = await next('stats');
    const pgBefore = postgres ? processTreeCpuSeconds(postgres.pid) : 0;
    deployStartedAt = Date.now();
    child.send({ kind: 'deploy' });
    const deployed = await next('deployed');
    const createdAt = deployed.createdAt as number;
    const end = createdAt + timeoutMs;
    progress(`deployment committed after ${(((deployed.committedAt as number) - createdAt) / 1000).toFixed(1)} s`);
    for (let tick = 0; adoptedAt.length < n && Date.now() < end; tick++) {
      await new Promise((r) => setTimeout(r, 100));
      if (tick % 50 === 49) progress(`${adoptedAt.length}/${n} adopted after ${((Date.now() - createdAt) / 1000).toFixed(0)} s`);
    }
    stop = true;
    child.send({ kind: 'stats' });
    const after = await next('stats');
    const pgSeconds = postgres ? processTreeCpuSeconds(postgres.pid) - pgBefore : 0;
    const cpuSeconds = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
    const sorted = adoptedAt.map((t) => (t - createdAt) / 1000).sort((a, b) => a - b);
    const at = (fraction: number) => (sorted.length >= Math.ceil(n * fraction) ? sorted[Math.ceil(n * fraction) - 1]! : NaN);
    const figures: Figure[] = [
      { name: 'devices', value: n, unit: '', note: 'each its own P-256 key and certificate, one mTLS connection kept alive while it polls' },
      { name: 'provisioning', value: provisionMs / 1000, unit: 's', note: 'keys, certificates and store rows (not part of the figures below)' },
      {
        name: 'deployment committed',
        value: ((deployed.committedAt as number) - createdAt) / 1000,
        unit: 's',
        note: `placement on ${String(deployed.placed)} devices, every manifest rendered, versioned, stored`,
      },
      { name: 'adopted by 50%', value: at(0.5), unit: 's', note: 'from creation: manifest + YAML digest checked + status accepted' },
      { name: 'adopted by 95%', value: at(0.95), unit: 's' },
      { name: 'adopted by 100%', value: at(1), unit: 's', note: `${adoptedAt.length}/${n} within ${timeoutMs / 1000} s` },
      { name: 'first poll p50', value: percentile(latencies, 50), unit: 'ms', note: 'new mTLS connection + 200 manifest, 200 in flight' },
      { name: 'first poll p99', value: percentile(latencies, 99), unit: 'ms' },
      {
        name: 'conditional poll p50',
        value: percentile(notModified, 50),
        unit: 'ms',
        note: `304, 200 in flight, ${conditionalReused} of ${n} on a kept-alive connection (the rest reconnect: idle past the server's keep-alive)`,
      },
      { name: 'conditional poll p99', value: percentile(notModified, 99), unit: 'ms' },
      { name: 'control-plane CPU, rollout', value: cpuSeconds, unit: 's', note: 'user+system from deploy until the end, one process' },
      ...(postgres ? [{ name: 'PostgreSQL CPU, rollout', value: pgSeconds, unit: 's', note: 'user+system of the server and its backends' }] : []),
      { name: 'control-plane peak RSS', value: after.maxRssKiB / 1024, unit: 'MiB' },
      { name: 'errors', value: errors, unit: '', note: 'failed polls, digest mismatches, refused status reports' },
      {
        name: 'keep-alive races retried',
        value: keepAliveRetries,
        unit: '',
        note: 'request on a kept-alive connection the server closed before reading it, sent again once (not an error)',
      },
    ];
    void Promise.allSettled(polling);
    const errorKinds = [...kinds].map(([k, v]) => `${k} ×${v}`).join(', ');
    return {
      bench: 'fleet',
      figures,
      notes: [`store: ${storeKind}`, ...(errorKinds ? [`errors: ${errorKinds}`] : []), "loopback only; devices and control plane share this machine's cores"],
    };
  } finally {
    for (const a of agents) a.destroy();
    child.send({ kind: 'stop' });
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        r();
      }, 10_000);
      child.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
    await postgres?.stop();
  }
}
