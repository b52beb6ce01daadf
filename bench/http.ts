import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDemoApps, defaultDemoCache } from '../cli/demo/apps.js';
import { BerthError, errorMessage } from '../common/errors.js';
import { TIERS, type Tier } from '../wire/tier.js';
import { LOAD_TOOLS, resolveTool, runLoad, type LoadResult, type LoadTool } from './http-load.js';
import {
  benchEngines,
  helloApp,
  HTTP_APPS,
  SENSOR_ROUTE,
  sensorApp,
  serveApp,
  serveBare,
  WASMTIME_SHARE_TARGET,
  type BenchApp,
  type BenchEngine,
  type HttpApp,
  type Served,
} from './http-targets.js';
import { fixture } from './isolation-berth.js';
import { target, targetLine, type Target } from './targets.js';
import { enginesFromArgs } from './engines.js';
import type { BenchResult, Figure } from './report.js';

export interface HttpBenchOptions {
  /** Measured time per target, after the warm-up (5 s by default: V8 compiles the guest's hot code again, optimised, in the background during the first seconds). */
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** Under the sensor's route; `/sensor/reading` takes a reading (publishes and logs it). */
  path: string;
  apps: readonly HttpApp[];
  tiers: readonly Tier[];
  engines: readonly BenchEngine[];
  load: LoadTool;
  progress?: (line: string) => void;
}

/** One target's figures: who answered, and what the load measured. */
export interface TargetResult extends LoadResult {
  /** `bare` for the Node handler, else `app engine/tier`. */
  target: string;
  app?: HttpApp;
  /** The path asked for. */
  path: string;
  engine: BenchEngine | 'node';
  tier: Tier | 'bare';
  /** Requests per second as a share of the bare handler's, in the same run. */
  ratio: number;
  /** Why the target could not be served at all (its app did not start or answer); its figures are then zero. */
  failure?: string;
}

const NOT_SERVED: LoadResult = { tool: '', requests: 0, errors: 0, errorKinds: [], seconds: 0, requestsPerSecond: 0, p50Ms: NaN, p99Ms: NaN };

export interface HttpReport {
  tool: 'node' | 'wrk';
  connections: number;
  seconds: number;
  path: string;
  bare: TargetResult;
  apps: TargetResult[];
  /** Load average (1, 5, 15 min) before and after: on a shared machine every figure depends on it. */
  load: { before: number[]; after: number[] };
}

export const DEFAULTS: HttpBenchOptions = {
  seconds: 5,
  warmupSeconds: 5,
  connections: 8,
  path: `${SENSOR_ROUTE}/reading`,
  apps: HTTP_APPS,
  tiers: TIERS,
  engines: benchEngines(),
  load: 'auto',
};
const MAX = { seconds: 60, warmupSeconds: 10, connections: 256 };

/**
 * Loads the bare handler, then each app (the demo's sensor, `hello`) through the device gateway
 * on every engine and tier, one at a time, from a second process on loopback (docs/http.md,
 * "Performance"). Every target gets the same connections and duration.
 */
export async function runHttpBench(options: HttpBenchOptions): Promise<HttpReport> {
  const tool = resolveTool(options.load);
  const progress = options.progress ?? (() => {});
  const scratch = mkdtempSync(join(tmpdir(), 'berth-bench-http-'));
  const before = loadavg();
  try {
    const apps = await benchApps(options);
    const measure = async (served: Served, path: string): Promise<LoadResult> => {
      try {
        return await runLoad(
          {
            port: served.port,
            path,
            connections: options.connections,
            warmupMs: options.warmupSeconds * 1000,
            durationMs: options.seconds * 1000,
            requestTimeoutMs: 10_000,
          },
          tool,
        );
      } finally {
        await served.close();
      }
    };
    progress('http: bare node handler');
    const bareLoad = await measure(await serveBare(), options.path);
    const bare: TargetResult = { ...bareLoad, target: 'bare', path: options.path, engine: 'node', tier: 'bare', ratio: 1 };
    const results: TargetResult[] = [];
    for (const app of apps)
      for (const engine of options.engines) {
        for (const tier of options.tiers) {
          const name = `${app.name} ${engine}/${tier}`;
          progress(`http: ${name}`);
          // A target that cannot be served is reported with its reason; the others are still measured.
          const load = await serveApp({ app, engine, tier }, scratch).then(
            (served) => measure(served, app.path),
            (err: unknown): LoadResult & { failure: string } => ({ ...NOT_SERVED, tool, failure: errorMessage(err) }),
          );
          results.push({ ...load, target: name, app: app.name, path: app.path, engine, tier, ratio: load.requestsPerSecond / bare.requestsPerSecond });
        }
      }
    return { tool, connections: options.connections, seconds: options.seconds, path: options.path, bare, apps: results, load: { before, after: loadavg() } };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The apps asked for: the sensor built as the demo builds it, `hello` from the test fixtures (built by `npm test`). */
async function benchApps(options: HttpBenchOptions): Promise<BenchApp[]> {
  const apps: BenchApp[] = [];
  if (options.apps.includes('sensor')) apps.push(sensorApp((await buildDemoApps(defaultDemoCache())).sensor, options.path));
  if (options.apps.includes('hello')) apps.push(helloApp(fixture('http-hello')));
  return apps;
}

/**
 * `npm run bench -- http [--seconds S] [--warmup S] [--connections N] [--path P] [--apps sensor,hello] [--tiers a,b]
 * [--engines jco,wasmtime] [--load auto|node|wrk] [--quick]`.
 */
export async function run(argv: string[]): Promise<BenchResult> {
  const options = parseHttpArgs(argv);
  const report = await runHttpBench({ ...options, progress: (line) => process.stderr.write(`${line}\n`) });
  return toBenchResult(report);
}

export function parseHttpArgs(argv: string[]): HttpBenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      path: { type: 'string' },
      apps: { type: 'string' },
      tiers: { type: 'string' },
      engines: { type: 'string' },
      load: { type: 'string' },
      quick: { type: 'boolean' },
    },
  });
  const quick = values.quick ? { seconds: 1, warmupSeconds: 0.5 } : {};
  const path = values.path ?? DEFAULTS.path;
  if (!path.startsWith(`${SENSOR_ROUTE}/`) && path !== SENSOR_ROUTE)
    throw new BerthError('bench.invalid-option', `--path must be under the sensor's route ${SENSOR_ROUTE}, not '${path}'`);
  const apps = values.apps === undefined ? DEFAULTS.apps : values.apps.split(',');
  for (const a of apps)
    if (!(HTTP_APPS as readonly string[]).includes(a))
      throw new BerthError('bench.invalid-option', `--apps: unknown app '${a}'; apps: ${HTTP_APPS.join(', ')}`);
  const tiers = values.tiers === undefined ? DEFAULTS.tiers : values.tiers.split(',');
  for (const t of tiers)
    if (!(TIERS as readonly string[]).includes(t)) throw new BerthError('bench.invalid-option', `--tiers: unknown tier '${t}'; tiers: ${TIERS.join(', ')}`);
  const load = values.load ?? DEFAULTS.load;
  if (!(LOAD_TOOLS as readonly string[]).includes(load))
    throw new BerthError('bench.invalid-option', `--load must be one of ${LOAD_TOOLS.join(', ')}, not '${load}'`);
  return {
    ...DEFAULTS,
    ...quick,
    ...(values.seconds !== undefined ? { seconds: bounded(values.seconds, 0.2, MAX.seconds, '--seconds') } : {}),
    ...(values.warmup !== undefined ? { warmupSeconds: bounded(values.warmup, 0, MAX.warmupSeconds, '--warmup') } : {}),
    ...(values.connections !== undefined ? { connections: Math.round(bounded(values.connections, 1, MAX.connections, '--connections')) } : {}),
    path,
    apps: apps as HttpApp[],
    tiers: tiers as Tier[],
    engines: values.engines === undefined ? DEFAULTS.engines : enginesFromArgs(['--engines', values.engines]),
    load: load as LoadTool,
  };
}

function bounded(text: string, min: number, max: number, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) throw new BerthError('bench.invalid-option', `${flag} must be a number from ${min} to ${max}, not '${text}'`);
  return n;
}

/** Issue 13: on Wasmtime, at least 25 % of the bare handler's requests/s, judged per app and tier. */
export function httpTargets(report: HttpReport): Target[] {
  return report.apps
    .filter((t) => t.engine === 'wasmtime')
    .map((t) => target(`${t.target} via gateway: share of the bare handler's requests/s`, t.ratio * 100, '%', 'min', WASMTIME_SHARE_TARGET * 100));
}

export function toBenchResult(report: HttpReport): BenchResult {
  const figures: Figure[] = [];
  for (const t of [report.bare, ...report.apps]) {
    const who = t.target === 'bare' ? 'bare node http' : `${t.target} via gateway`;
    figures.push({
      name: `${who}: requests/s`,
      value: t.requestsPerSecond,
      unit: 'req/s',
      note: t.failure ? `NOT SERVED: ${t.failure.split('\n')[0]!.slice(0, 160)}` : `${t.requests} requests in ${t.seconds.toFixed(1)} s`,
    });
    figures.push({ name: `${who}: p50`, value: t.p50Ms, unit: 'ms' });
    figures.push({ name: `${who}: p99`, value: t.p99Ms, unit: 'ms' });
    figures.push({ name: `${who}: errors`, value: t.errors, unit: '', note: t.errorKinds.join('; ') });
    if (t.target !== 'bare') figures.push({ name: `${who}: share of bare`, value: t.ratio * 100, unit: '%' });
  }
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const notes = [
    ...httpTargets(report).map(targetLine),
    `GET ${[...new Set(report.apps.map((a) => a.path))].join(' and ') || report.path}, ${report.connections} keep-alive connections, ${report.seconds} s per target, load from ${report.tool} in a second process on loopback`,
    `load average before ${load(report.load.before)}, after ${load(report.load.after)}`,
  ];
  return { bench: 'http', figures, notes, data: report };
}
