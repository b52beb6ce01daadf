import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Rng } from './fuzz-rng.js';
import { RequestFactory, routeKey, routesToFuzz, type FuzzRoute } from './fuzz-requests.js';
import { FuzzSender } from './fuzz-send.js';
import type { CredentialName, FuzzOutcome, FuzzRequest, FuzzTargetReady, FuzzTargetReply } from './fuzz-types.js';

export interface FuzzOptions {
  /** Stop after this many generated requests (the warm-up is not counted). */
  requests: number;
  /** ...or after this many seconds, whichever comes first. */
  seconds: number;
  seed: string;
  /** Requests in flight at once. */
  concurrency?: number;
  /** No answer within this is a hang (ms). */
  deadlineMs?: number;
  /** Share of requests sent as raw bytes (bad chunk sizes, bad lengths, raw path bytes). */
  rawFraction?: number;
  /** Progress lines (to stderr in the benchmark). */
  progress?: (line: string) => void;
}

/** A request the servers answered badly, kept with what reproduces it. */
export interface Finding {
  kind: '5xx' | 'hang';
  method: string;
  route: string;
  target: string;
  status?: number;
  code?: string;
  count: number;
  reproducer: {
    credential: string;
    method: string;
    path: string;
    headers: Record<string, string>;
    bodyPrefix?: string;
    bodyBase64Prefix?: string;
    rawPrefix?: string;
  };
}

export interface ErrorLine {
  name?: string;
  msg?: string;
  err?: string;
  method?: string;
  path?: string;
}

export interface FuzzReport {
  seed: string;
  routes: number;
  sent: number;
  seconds: number;
  perSecond: number;
  statuses: Record<string, number>;
  serverErrors: number;
  hangs: number;
  crashes: number;
  /** Error-level (pino level ≥ 50) lines written by the servers while fuzzed. */
  errorLines: number;
  findings: Finding[];
  errorLineSamples: ErrorLine[];
  /** Answers the client could not read as HTTP (connection closed by the server, client refusals). */
  closed: Record<string, number>;
}

const TARGET = import.meta.url.endsWith('.ts') ? new URL('../dist/bench/fuzz-target.js', import.meta.url) : new URL('./fuzz-target.js', import.meta.url);

/**
 * The API fuzz run (docs/benchmarks.md, fuzz): starts the servers in a child process, warms
 * every route with each credential so the body schemas readJson uses become known, then sends
 * generated requests to every route until the count or the time is reached.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const say = options.progress ?? (() => {});
  const target = await startTarget();
  const deadlineMs = options.deadlineMs ?? 10_000;
  const concurrency = options.concurrency ?? 16;
  const sender = new FuzzSender(target.ready, deadlineMs, concurrency);
  try {
    const routes = routesToFuzz(target.ready);
    say(`fuzz: seed ${options.seed}, ${routes.length} routes, up to ${options.requests} requests or ${options.seconds} s`);
    const admitted = await warmUp(sender, target.ready, routes);
    const schemas = await target.ask();
    say(`fuzz: body schemas known for ${Object.keys(schemas).length} routes`);
    const rng = new Rng(options.seed);
    const factory = new RequestFactory(rng, target.ready, schemas, admitted, options.rawFraction ?? 0.08);
    const tally = new Tally();
    const t0 = performance.now();
    const limitMs = options.seconds * 1000;
    let made = 0;
    let nextProgress = 10_000;
    const lane = async () => {
      while (made < options.requests && performance.now() - t0 < limitMs && !target.gone()) {
        const request = factory.make(routes[made++ % routes.length]!);
        tally.add(request, await sender.send(request));
        if (tally.sent >= nextProgress) {
          nextProgress += 10_000;
          say(`fuzz: ${tally.sent} sent, ${tally.serverErrors} 5xx, ${tally.hangs} hangs, ${target.errorLines.length} error lines`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    const seconds = (performance.now() - t0) / 1000;
    const crashes = target.gone() ? 1 : 0;
    return {
      seed: options.seed,
      routes: routes.length,
      sent: tally.sent,
      seconds,
      perSecond: tally.sent / seconds,
      statuses: Object.fromEntries([...tally.statuses].sort()),
      serverErrors: tally.serverErrors,
      hangs: tally.hangs,
      crashes,
      errorLines: target.errorLines.length,
      findings: [...tally.findings.values()],
      errorLineSamples: distinctLines(target.errorLines).slice(0, 20),
      closed: Object.fromEntries(tally.closed),
    };
  } finally {
    sender.close();
    await target.stop();
  }
}

/**
 * One plausible request per route and credential, in order (so a seed repeats): each route's
 * body schema is met once, and the credentials that get past its authentication are learnt.
 * Bodies are `[]`, which readJson refuses after reading: the warm-up creates nothing, and
 * DELETEs name nothing that exists.
 */
async function warmUp(sender: FuzzSender, ready: FuzzTargetReady, routes: FuzzRoute[]): Promise<Map<string, CredentialName[]>> {
  const admitted = new Map<string, CredentialName[]>();
  for (const route of routes) {
    if (route.target !== 'control-plane') continue;
    const method = route.method === 'ALL' ? 'GET' : route.method;
    const path = warmUpPath(route.path, method === 'DELETE' ? undefined : ready.ids);
    const passed: CredentialName[] = [];
    for (const credential of WARM_UP_CREDENTIALS) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const token = credential === 'device' || credential === 'none' ? undefined : ready.credentials[credential];
      if (token) headers.authorization = `Bearer ${token}`;
      const body = method === 'GET' || method === 'HEAD' || method === 'DELETE' ? undefined : Buffer.from('[]');
      const o = await sender.send({ target: 'control-plane', route: route.path, credential, method, path, headers, ...(body ? { body } : {}) });
      if (o.status !== undefined && o.status !== 401 && o.status !== 403) passed.push(credential);
    }
    admitted.set(routeKey(route), passed);
  }
  return admitted;
}

const WARM_UP_CREDENTIALS = ['none', 'admin', 'operator', 'vendor', 'otherVendor', 'enrollment', 'device'] as const;

/** The pattern with ids that exist (or, without `ids`, ones that do not). */
function warmUpPath(pattern: string, ids: FuzzTargetReady['ids'] | undefined): string {
  const id = (k: string) => {
    if (!ids) return k === 'deviceId' ? 'fuzz-none/x' : 'fuzz-none';
    if (k === 'deviceId') return ids.device;
    if (k === 'deploymentId' || pattern.includes('/deployments/')) return ids.deployment;
    if (pattern.includes('/apps/')) return k === 'version' ? '9.9.9' : ids.app;
    if (pattern.includes('/vendors/')) return ids.vendor;
    return 'fuzz-none';
  };
  return pattern
    .replace(/:decision\{[^}]*\}/g, 'deny')
    .replace(/:([A-Za-z]+)(\{[^}]*\})?/g, (_, k: string) => id(k))
    .replace(/\*/g, 'fuzz-none');
}

class Tally {
  sent = 0;
  serverErrors = 0;
  hangs = 0;
  readonly statuses = new Map<string, number>();
  readonly closed = new Map<string, number>();
  readonly findings = new Map<string, Finding>();

  add(r: FuzzRequest, o: FuzzOutcome): void {
    this.sent++;
    if (o.status !== undefined) this.statuses.set(String(o.status), (this.statuses.get(String(o.status)) ?? 0) + 1);
    else if (o.closed) this.closed.set(o.closed, (this.closed.get(o.closed) ?? 0) + 1);
    if (o.hang) this.hangs++;
    if (o.status !== undefined && o.status >= 500) this.serverErrors++;
    if (o.hang || (o.status !== undefined && o.status >= 500)) this.remember(r, o);
  }

  /** The first request of each distinct (kind, method, route, status, code), with its reproducer. */
  private remember(r: FuzzRequest, o: FuzzOutcome): void {
    const kind = o.hang ? 'hang' : '5xx';
    const key = `${kind} ${r.target} ${r.method} ${r.route} ${o.status} ${o.code}`;
    const seen = this.findings.get(key);
    if (seen) {
      seen.count++;
      return;
    }
    const many = Object.keys(r.headers).filter((k) => k.startsWith('x-fuzz-') && k !== 'x-fuzz-pad');
    const shown = Object.entries(r.headers).filter(([k]) => !many.includes(k));
    if (many.length) shown.push([`x-fuzz-0 … x-fuzz-${many.length - 1}`, 'their index']);
    const headers = Object.fromEntries(
      shown.map(([k, v]) => [k, k === 'authorization' ? `${v.slice(0, 12)}…(${r.credential})` : v.length > 200 ? `${v.slice(0, 40)}…(${v.length} chars)` : v]),
    );
    this.findings.set(key, {
      kind,
      method: r.method,
      route: r.route,
      target: r.target,
      ...(o.status !== undefined ? { status: o.status } : {}),
      ...(o.code ? { code: o.code } : {}),
      count: 1,
      reproducer: {
        credential: r.credential,
        method: r.method,
        path: r.path.slice(0, 300),
        headers,
        ...(r.body ? bodyPrefix(r.body.subarray(0, 300)) : {}),
        ...(r.raw ? { rawPrefix: r.raw.subarray(0, 600).toString('latin1') } : {}),
      },
    });
  }
}

/** Text when the bytes are UTF-8 (lone surrogates show as JSON escapes), else base64. */
function bodyPrefix(bytes: Buffer): { bodyPrefix: string } | { bodyBase64Prefix: string } {
  try {
    return { bodyPrefix: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { bodyBase64Prefix: bytes.toString('base64') };
  }
}

/** One line per finding, for assertions and summaries. */
export function findingLine(f: Finding): string {
  return `${f.kind} ${f.status ?? '-'} ${f.code ?? '-'} ${f.target} ${f.route} (sent as ${f.method} ${f.reproducer.path.slice(0, 80)})`;
}

function distinctLines(lines: ErrorLine[]): ErrorLine[] {
  const seen = new Map<string, ErrorLine>();
  for (const l of lines) {
    const key = `${l.name} ${l.msg} ${l.err?.slice(0, 80)} ${l.method} ${l.path?.replace(/[^/]+$/, '')}`;
    if (!seen.has(key)) seen.set(key, l);
  }
  return [...seen.values()];
}

interface RunningTarget {
  ready: FuzzTargetReady;
  errorLines: ErrorLine[];
  gone(): boolean;
  ask(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Forks bench/fuzz-target.ts, reads its pino lines, and waits for its credentials and routes. */
async function startTarget(): Promise<RunningTarget> {
  const child: ChildProcess = fork(TARGET, [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const errorLines: ErrorLine[] = [];
  let exited = false;
  let stopping = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = parseLogLine(line);
    if (parsed && !stopping) errorLines.push(parsed);
  });
  const next = () =>
    new Promise<FuzzTargetReply>((resolve, reject) => {
      const onExit = () => reject(new Error('the fuzz target ended before answering'));
      child.once('exit', onExit);
      child.once('message', (m: FuzzTargetReply) => {
        child.off('exit', onExit);
        if (m.kind === 'error') reject(new Error(`fuzz target: ${m.message}`));
        else resolve(m);
      });
    });
  const ready = await next().catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  if (ready.kind !== 'ready') throw new Error(`fuzz target: unexpected ${ready.kind}`);
  return {
    ready,
    errorLines,
    gone: () => exited,
    async ask() {
      const answer = next();
      child.send({ kind: 'schemas' });
      const m = await answer;
      return m.kind === 'schemas' ? m.schemas : {};
    },
    async stop() {
      stopping = true;
      if (exited) return;
      child.send({ kind: 'stop' });
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(killer);
    },
  };
}

/** An error-level (≥ 50) pino line, or undefined for any other line. */
function parseLogLine(line: string): ErrorLine | undefined {
  let entry: { level?: number; name?: string; msg?: string; err?: { message?: string; type?: string }; method?: string; path?: string };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return undefined;
  }
  if ((entry.level ?? 0) < 50) return undefined;
  return {
    ...(entry.name ? { name: entry.name } : {}),
    ...(entry.msg ? { msg: entry.msg } : {}),
    ...(entry.err ? { err: `${entry.err.type ?? ''}: ${entry.err.message ?? ''}`.slice(0, 300) } : {}),
    ...(entry.method ? { method: entry.method } : {}),
    ...(entry.path ? { path: String(entry.path).slice(0, 200) } : {}),
  };
}
