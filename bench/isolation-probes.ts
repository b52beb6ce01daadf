import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, relative } from 'node:path';
import { errorMessage } from '../common/errors.js';
import type { Runtime, IsolationTier, StartAppOptions } from '../runtime/runtime.js';
import type { AppSupervisor } from '../runtime/supervisor.js';
import { fixture, type LogTap } from './isolation-berth.js';
import type { OciRuntime } from './isolation-container.js';

/** What a probe showed: the boundary stopped the attempt, only bounded it, or let it through. */
export type Verdict = 'stopped' | 'bounded' | 'not stopped' | 'n/a';
export interface Cell {
  verdict: Verdict;
  detail: string;
}
export const BOUNDARIES = [
  'host file outside (/etc/passwd)',
  'another tenant’s data',
  'host environment',
  'network (127.0.0.1 listener)',
  'CPU exhaustion',
  'memory exhaustion',
] as const;
export type Boundary = (typeof BOUNDARIES)[number];
export type ProbeColumn = Record<Boundary, Cell>;

/** A host variable set for the run: visible inside a boundary means the environment leaked. */
export const CANARY = 'BERTH_ISOLATION_CANARY';

/** A loopback listener that counts who got through to it. */
export class Listener {
  accepted = 0;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}
  static async open(): Promise<Listener> {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const listener = new Listener(server, (server.address() as { port: number }).port);
    server.on('connection', () => listener.accepted++);
    return listener;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const deny = (ok: boolean, detail: string): Cell => ({ verdict: ok ? 'stopped' : 'not stopped', detail });

async function waitUntil<T>(probe: () => T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const nextStop = (app: AppSupervisor, ms: number) =>
  Promise.race([
    new Promise<{ reason: string; message: string }>((resolve) => app.once('stopped', resolve)),
    new Promise<{ reason: string; message: string }>((resolve) => setTimeout(() => resolve({ reason: 'none', message: `still running after ${ms} ms` }), ms)),
  ]);

/** A probe that could not run (its app did not start, say): every cell it would fill says why. */
const notRun = (err: unknown): Cell => ({ verdict: 'n/a', detail: `the probe could not run: ${errorMessage(err).split('\n')[0]!.slice(0, 200)}` });

/** Runs one probe; a probe that throws fills its cells with why, and the other probes still run. */
async function attempt<K extends Boundary>(cells: readonly K[], probe: () => Promise<Record<K, Cell>>): Promise<Record<K, Cell>> {
  try {
    return await probe();
  } catch (err) {
    return Object.fromEntries(cells.map((c) => [c, notRun(err)])) as Record<K, Cell>;
  }
}

/** Fails at once when the app stopped without having started (it will not answer). */
function started(app: AppSupervisor): void {
  const stop = app.status().lastStop;
  if (stop && app.status().state !== 'running' && app.status().restarts > 0) throw new Error(`${stop.reason}: ${stop.message}`);
}

/**
 * The probes in one Berth tier. `secret` is another tenant's file on the host; `label` tells apart
 * the probes' apps of runtimes that share a log tap (one per engine).
 */
export async function probeBerth(
  runtime: Runtime,
  tier: IsolationTier,
  tap: LogTap,
  listener: Listener,
  secret: string,
  label: string = tier,
): Promise<ProbeColumn> {
  const apps: AppSupervisor[] = [];
  const start = async (bytes: Uint8Array, options: Omit<StartAppOptions, 'vendor' | 'tier'>): Promise<AppSupervisor> => {
    const app = await runtime.startApp(bytes, { ...options, vendor: 'bench', tier });
    apps.push(app);
    return app;
  };
  try {
    // files: /etc/passwd, `..`, and symlinks planted in its own folder that point at the other tenant's file.
    const files = await attempt(['host file outside (/etc/passwd)', 'another tenant’s data', 'host environment'], async () => {
      const name = `probe-files-${label}`;
      const own = join(runtime.appDataDir('bench', name), 'files');
      mkdirSync(own, { recursive: true });
      symlinkSync(secret, join(own, 'link-abs'));
      symlinkSync(relative(own, secret), join(own, 'link-rel'));
      const app = await start(fixture('files'), { app: name, grants: { files: {}, clocks: {} } });
      const lines = await waitUntil(
        () => (started(app), tap.of(name).some((l) => l.startsWith('env ')) ? tap.of(name) : undefined),
        30_000,
        `the files probe under ${tier}`,
      );
      const line = (key: string) => lines.find((l) => l.startsWith(`${key} `)) ?? `${key} (no answer)`;
      const outside = ['etc-passwd', 'dotdot', 'relative-dotdot'].map(line);
      const tenant = ['symlink-abs', 'symlink-rel'].map(line);
      const env = line('env');
      return {
        'host file outside (/etc/passwd)': deny(
          outside.every((l) => l.includes(' denied ')),
          outside.join('; '),
        ),
        'another tenant’s data': deny(
          tenant.every((l) => l.includes(' denied ')),
          `symlinks to it: ${tenant.join('; ')}`,
        ),
        'host environment': deny(env === 'env denied none', env === 'env denied none' ? 'empty environment' : env),
      };
    });

    // network: the only way out is wasi:http, granted here for another origin only.
    const network = await attempt(['network (127.0.0.1 listener)'], async () => {
      const before = listener.accepted;
      const client = await start(fixture('http-client'), {
        app: `probe-net-${label}`,
        grants: { config: { values: { url: `http://127.0.0.1:${listener.port}/` } }, 'outbound-http': { allow: ['http://198.51.100.7:80'] } },
      });
      started(client);
      const fetched = await client.invoke('fetchUrl', ['url']);
      const reached = listener.accepted - before;
      const netDetail = fetched.ok ? `fetched: ${String(fetched.value)}` : `${fetched.failure.message.slice(0, 90)}; listener saw ${reached} connection(s)`;
      return { 'network (127.0.0.1 listener)': deny(!fetched.ok && reached === 0, netDetail) };
    });

    const cpu = await attempt(['CPU exhaustion'], async () => {
      const spin = await start(fixture('spin'), { app: `probe-spin-${label}`, grants: {}, limits: { cpuDeadlineMs: 300 } });
      const t0 = performance.now();
      const spinStop = await nextStop(spin, 10_000);
      const spinMs = performance.now() - t0;
      return { 'CPU exhaustion': deny(spinStop.reason === 'deadline', `${spinStop.reason} after ${spinMs.toFixed(0)} ms (limit 300 ms per call)`) };
    });

    const memory = await attempt(['memory exhaustion'], async () => {
      const bomb = await start(fixture('membomb'), { app: `probe-bomb-${label}`, grants: {}, limits: { memoryBytes: 4 * 2 ** 20 } });
      const bombStop = bomb.status().lastStop ?? (await nextStop(bomb, 10_000));
      return { 'memory exhaustion': deny(/refused/.test(bombStop.message), `${bombStop.message} (limit 4 MiB)`) };
    });
    return { ...files, ...network, ...cpu, ...memory };
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
  }
}

export const CONTAINER_LIMITS = { memoryBytes: 64 * 2 ** 20, cpu: { quota: 10_000, period: 100_000 } };
const ALLOC_CAP_MIB = 256;
const SPIN_MS = 1000;

/** The same probes in a container; `limited` sets linux.resources (CONTAINER_LIMITS) on the two that need them. */
export async function probeContainer(oci: OciRuntime, listener: Listener, secret: string, limited: boolean): Promise<ProbeColumn> {
  const said = (o: { ok: boolean; out: string }) => (o.ok ? o.out : `failed: ${o.out}`);
  const passwd = await oci.run(['read', '/etc/passwd']);
  const tenant = await oci.run(['read', secret]);
  const env = await oci.run(['env', CANARY]);
  const before = listener.accepted;
  const net = await oci.run(['net', String(listener.port)]);
  const reached = listener.accepted - before;
  const resources = limited ? CONTAINER_LIMITS : undefined;
  const spin = await oci.run(['spin', String(SPIN_MS)], resources);
  const alloc = await oci.run(['alloc', String(ALLOC_CAP_MIB)], resources);

  const cpu = /^cpu (\d+) wall (\d+)$/.exec(spin.out);
  const share = cpu ? Number(cpu[1]) / Number(cpu[2]) : NaN;
  const cpuCell: Cell = !spin.ok
    ? { verdict: 'stopped', detail: `ended: ${spin.out}` }
    : {
        verdict: limited && share < 0.2 ? 'bounded' : 'not stopped',
        detail: `busy loop ran its full ${SPIN_MS} ms, ${(share * 100).toFixed(0)}% of a core${limited ? ' (quota 10%)' : ''}`,
      };
  const memCell: Cell = alloc.ok
    ? { verdict: 'not stopped', detail: `${alloc.out} MiB (the probe's own cap: ${ALLOC_CAP_MIB} MiB)` }
    : { verdict: 'stopped', detail: `killed before ${ALLOC_CAP_MIB} MiB: ${alloc.out}${limited ? ' (limit 64 MiB)' : ''}` };
  return {
    'host file outside (/etc/passwd)': deny(passwd.ok && passwd.out.startsWith('denied'), `${said(passwd)} (rootfs has no /etc; the host's is not mounted)`),
    'another tenant’s data': deny(tenant.ok && tenant.out.startsWith('denied'), `host path of it: ${said(tenant)}`),
    'host environment': deny(env.ok && env.out.startsWith('denied'), `${CANARY}: ${said(env)} (config.json env only)`),
    'network (127.0.0.1 listener)': deny(
      net.ok && net.out.startsWith('denied') && reached === 0,
      `${said(net)}; listener saw ${reached} connection(s) (own network namespace)`,
    ),
    'CPU exhaustion': cpuCell,
    'memory exhaustion': memCell,
  };
}

/** Another tenant's secret file on the host, outside every boundary under test. */
export function plantSecret(dir: string): string {
  const tenantDir = join(dir, 'apps', 'other-vendor', 'secret-app', 'files');
  mkdirSync(tenantDir, { recursive: true });
  const file = join(tenantDir, 'own.txt');
  writeFileSync(file, 'the other tenant’s secret');
  return file;
}
