import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:https';
import { closedUnderReuse } from '../runtime/agent/control-plane-client.js';
import { processTreeCpuSeconds, startBenchPostgres } from './fleet-postgres.js';
import type { LocalPostgres } from '../orchestrator/store/local-postgres.js';

/**
 * The simulated fleet shared by the fleet and advisory benches: a real control plane in its own
 * process (bench/fleet-control-plane.ts, 127.0.0.1, PGlite or PostgreSQL), and N devices in this
 * one, each with its own certificate and its own kept-alive mTLS connection, long-polling its
 * desired state with its ETag, fetching its deployment document, checking its digest and posting
 * a status report, as an agent does.
 */
export interface DeviceCreds {
  id: string;
  keyPem: string;
  certificatePem: string;
}

export interface Answer {
  status: number;
  etag?: string;
  body: Buffer;
  /** Sent on a connection kept alive from an earlier request (no handshake). */
  reused: boolean;
}

/** The one deployment every bench creates, on every device. */
export const DEPLOYMENT_ID = 'meter-everywhere';

/** The state manifest as a device reads it (only what the benches use). */
export interface Manifest {
  manifestVersion: number;
  deployments: { deploymentId: string; digest: string; url: string }[];
}

/** A status report's body: Margo's DeploymentStatusManifest without the ids the fleet fills in. */
export interface Report {
  status: { state: string; error?: { code: string; source: string; message: string } };
  'x-berth-extensions'?: { version: string };
}

export interface SimDevice extends DeviceCreds {
  agent: Agent;
}

export type Msg = { kind: string } & Record<string, any>;

/** Requests sent again because a kept-alive connection was closed by the server before it read them. */
let keepAliveRetries = 0;
export const keepAliveRetried = (): number => keepAliveRetries;

/**
 * One request on the device's kept-alive connection. One that the server's keep-alive closed
 * under it (`closedUnderReuse`) is sent once more on a new connection, as the device agent does;
 * every request here is idempotent (GETs, and a status report is an upsert). Counted apart,
 * never hidden.
 */
export function send(
  agent: Agent,
  ca: string[],
  url: string,
  method = 'GET',
  headers: Record<string, string> = {},
  body?: string,
  retried = false,
): Promise<Answer> {
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

export function arg(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const v = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} takes a positive whole number`);
  return v;
}

/** `--name value`, one of `allowed` (the first is the default). */
export function choice<T extends string>(argv: string[], name: string, allowed: readonly T[]): T {
  const i = argv.indexOf(name);
  const v = i >= 0 ? argv[i + 1] : allowed[0];
  if (!allowed.includes(v as T)) throw new Error(`${name} takes ${allowed.join(' or ')}`);
  return v as T;
}

export async function limit<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `done()` or `deadline`, printing `status()` every 5 s. */
export async function waitFor(done: () => boolean, deadline: number, progress: () => void): Promise<void> {
  for (let tick = 0; !done() && Date.now() < deadline; tick++) {
    await sleep(100);
    if (tick % 50 === 49) progress();
  }
}

/** How each device reacts to a new document of the deployment: the report it sends, or none. */
export type Reaction = (d: SimDevice, m: Manifest, doc: { digest: string; bytes: Buffer }) => Report | undefined;

export class SimulatedFleet {
  readonly devices: SimDevice[] = [];
  url = '';
  ca: string[] = [];
  /** An admin token of the control plane, for the operator API. */
  adminToken = '';
  provisionMs = 0;
  /** First contact: new mTLS connection and the first manifest (ms). */
  readonly firstPolls: number[] = [];
  /** The conditional poll right after (ms), and how many went on a kept-alive connection. */
  readonly conditionalPolls: number[] = [];
  conditionalReused = 0;
  errors = 0;
  readonly errorKinds = new Map<string, number>();
  /** Set once the change being measured has been made, to tell poll errors before it from those after. */
  changedAt: number | undefined;
  /** Devices that will not get there: a bad document or a refused report (they are not retried). */
  readonly failed = new Set<string>();
  private readonly etags = new Map<string, string>();
  private readonly longPolled = new Set<string>();
  private readonly polling: Promise<void>[] = [];
  private stopped = false;
  private readonly inbox: Msg[] = [];
  private readonly waiters: (() => void)[] = [];

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly postgres: LocalPostgres | undefined,
    /** Bounds every wait for the control plane's answer. */
    readonly deadline: number,
  ) {
    child.on('message', (m: Msg) => {
      this.inbox.push(m);
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  /**
   * Starts the control plane. `--profile DIR`: it writes a V8 CPU profile there when it stops
   * (node --cpu-prof). `--store postgres`: a PostgreSQL server (Debian postgresql-15) instead of
   * the embedded PGlite.
   */
  static async start(name: string, argv: string[], deadline: number): Promise<SimulatedFleet> {
    const profileAt = argv.indexOf('--profile');
    const profile = profileAt >= 0 && argv[profileAt + 1] ? ['--cpu-prof', `--cpu-prof-dir=${argv[profileAt + 1]}`] : [];
    const postgres = choice(argv, '--store', ['pglite', 'postgres']) === 'postgres' ? await startBenchPostgres() : undefined;
    const env = postgres ? { ...process.env, BERTH_FLEET_STORE_URL: postgres.url } : process.env;
    const child = fork(new URL('./fleet-control-plane.js', import.meta.url), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: ['--max-old-space-size=4096', ...profile],
      env,
    });
    const fleet = new SimulatedFleet(name, child, postgres, deadline);
    await fleet.next('ready');
    return fleet;
  }

  get storeKind(): string {
    return this.postgres ? 'postgres' : 'pglite';
  }

  private readonly startedAt = Date.now();

  progress(line: string): void {
    process.stderr.write(`${this.name} +${((Date.now() - this.startedAt) / 1000).toFixed(0)} s: ${line}\n`);
  }

  command(m: Msg): void {
    this.child.send(m);
  }

  /** The control plane's next message of one of these kinds (an `error` one is thrown). */
  async next(...kinds: string[]): Promise<Msg> {
    for (;;) {
      const i = this.inbox.findIndex((m) => kinds.includes(m.kind) || m.kind === 'error');
      if (i >= 0) {
        const [m] = this.inbox.splice(i, 1);
        if (m!.kind === 'error') throw new Error(`control plane: ${String(m!.message)}`);
        return m!;
      }
      if (Date.now() > this.deadline) throw new Error(`${this.name} bench: no '${kinds.join('/')}' from the control plane in time`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 1000).unref();
      });
    }
  }

  async ask(m: Msg, kind: string): Promise<Msg> {
    this.command(m);
    return this.next(kind);
  }

  /** Control-plane CPU (µs, user+system), peak RSS and long-polls parked now; with `resetQueryStats`, BERTH_FLEET_QUERY_STATS counts from here. */
  stats(resetQueryStats = false): Promise<Msg> {
    return this.ask({ kind: 'stats', resetQueryStats }, 'stats');
  }

  /** CPU seconds of the PostgreSQL server and its backends so far (0 on PGlite). */
  postgresCpuSeconds(): number {
    return this.postgres ? processTreeCpuSeconds(this.postgres.pid) : 0;
  }

  /** N devices, each with its own key and certificate, written straight to the store; `versions` of the app admitted. */
  async provision(n: number, versions: readonly string[] = ['1.0.0']): Promise<void> {
    const start = Date.now();
    this.command({ kind: 'provision', devices: n, versions });
    const creds: DeviceCreds[] = [];
    let provisioned: Msg | undefined;
    while (!provisioned) {
      const m = await this.next('devices', 'provisioned');
      if (m.kind === 'devices') {
        creds.push(...(m.devices as DeviceCreds[]));
        if (creds.length % 2000 < 250) this.progress(`provisioned ${creds.length}/${n}`);
      } else provisioned = m;
    }
    this.provisionMs = Date.now() - start;
    this.url = provisioned.url as string;
    this.ca = provisioned.ca as string[];
    this.adminToken = provisioned.adminToken as string;
    for (const c of creds)
      this.devices.push({ ...c, agent: new Agent({ keepAlive: true, maxSockets: 1, ca: this.ca, key: c.keyPem, cert: c.certificatePem }) });
    this.progress(`${this.devices.length} devices provisioned in ${(this.provisionMs / 1000).toFixed(1)} s`);
  }

  /**
   * First contact (TLS handshake and the first manifest, 200 devices at a time), then a
   * conditional poll on a warm connection (what a steady fleet costs) and straight into the
   * long-poll loop on that connection: no device leaves its connection idle between the two, as
   * no real device would (an idle gap longer than the server's keep-alive timeout only measures
   * reconnects). Each device reacts to every new document of the deployment with `react`; with
   * `once`, it stops polling after its first accepted report.
   */
  async connect(react: Reaction, onReported: (d: SimDevice, r: Report) => void, once: boolean): Promise<void> {
    await limit(this.devices, 200, async (d) => {
      const t = performance.now();
      const a = await send(d.agent, this.ca, `${this.url}/api/v1/deployments`);
      this.firstPolls.push(performance.now() - t);
      if (a.status !== 200 || !a.etag) throw new Error(`${d.id}: first poll answered ${a.status}`);
      this.etags.set(d.id, a.etag);
    });
    this.progress(`first contact done (${this.devices.length} mTLS connections)`);
    await limit(this.devices, 200, async (d) => {
      const t = performance.now();
      const a = await send(d.agent, this.ca, `${this.url}/api/v1/deployments`, 'GET', { 'if-none-match': this.etags.get(d.id)! });
      this.conditionalPolls.push(performance.now() - t);
      if (a.reused) this.conditionalReused++;
      if (a.status !== 304) throw new Error(`${d.id}: conditional poll answered ${a.status}`);
      this.polling.push(this.watch(d, react, onReported, once));
    });
  }

  private tally(kind: string): void {
    this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + 1);
  }

  private async watch(d: SimDevice, react: Reaction, onReported: (d: SimDevice, r: Report) => void, once: boolean): Promise<void> {
    while (!this.stopped) {
      this.longPolled.add(d.id);
      const sentAt = Date.now();
      const a = await send(d.agent, this.ca, `${this.url}/api/v1/deployments?wait=60`, 'GET', { 'if-none-match': this.etags.get(d.id)! }).catch(
        (err: Error) => {
          const waited = Date.now() - sentAt;
          this.tally(
            `poll ${this.changedAt ? 'after' : 'before'} the change, ${waited < 1000 ? 'within 1 s' : waited < 30_000 ? 'within 30 s' : 'after 30 s'}: ${err.message}`,
          );
          return undefined;
        },
      );
      if (!a || (a.status !== 200 && a.status !== 304)) {
        if (a) this.tally(`poll: ${a.status}`);
        this.errors++;
        await sleep(500);
        continue;
      }
      if (a.status === 304) continue;
      this.etags.set(d.id, a.etag!);
      const m = JSON.parse(a.body.toString('utf8')) as Manifest;
      const dep = m.deployments.find((x) => x.deploymentId === DEPLOYMENT_ID);
      if (!dep) continue;
      const doc = await send(d.agent, this.ca, this.url + dep.url);
      if (doc.status !== 200 || `sha256:${createHash('sha256').update(doc.body).digest('hex')}` !== dep.digest) {
        this.fail(d, `document: ${doc.status}`);
        continue;
      }
      let report: Report | undefined;
      try {
        report = react(d, m, { digest: dep.digest, bytes: doc.body });
      } catch (err) {
        this.fail(d, `document refused: ${(err as Error).message.slice(0, 200)}`);
        continue;
      }
      if (!report) continue;
      const body = JSON.stringify({ deploymentId: DEPLOYMENT_ID, deviceId: d.id, adoptedManifestVersion: m.manifestVersion, ...report });
      const posted = await send(d.agent, this.ca, `${this.url}/api/v1/deployments/${DEPLOYMENT_ID}/status`, 'POST', {}, body);
      if (posted.status !== 201 && posted.status !== 200) {
        this.fail(d, `status: ${posted.status}`);
        continue;
      }
      onReported(d, report);
      if (once) return;
    }
  }

  private fail(d: SimDevice, kind: string): void {
    this.tally(kind);
    this.errors++;
    this.failed.add(d.id);
  }

  /**
   * Until every device has long-polled at least once and nearly all are parked right now: with
   * 10,000 devices some are always between a timed-out long-poll and the next, and those see the
   * change on that next poll (their ETag is stale at once). Returns how many are parked.
   */
  async settle(): Promise<number> {
    const n = this.devices.length;
    let parked = 0;
    for (;;) {
      parked = (await this.stats()).waiting as number;
      if (parked >= n || (this.longPolled.size === n && parked >= n * 0.99) || Date.now() > this.deadline) return parked;
      await sleep(200);
    }
  }

  /** `kind ×count` of every error, for the notes. */
  errorSummary(): string {
    return [...this.errorKinds].map(([k, v]) => `${k} ×${v}`).join(', ');
  }

  /** Stops the devices, then the control plane (and PostgreSQL). */
  async close(): Promise<void> {
    this.stopped = true;
    void Promise.allSettled(this.polling);
    for (const d of this.devices) d.agent.destroy();
    this.child.send({ kind: 'stop' });
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        this.child.kill('SIGKILL');
        r();
      }, 10_000);
      this.child.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
    await this.postgres?.stop();
  }
}
