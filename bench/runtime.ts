import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { parse } from '@bytecodealliance/jco';
import { distPath } from '../common/paths.js';
import { serveBridge } from '../runtime/sandbox/bridge.js';
import type { EngineKind } from '../wire/engine.js';
import { benchEngine, enginesFromArgs } from './engines.js';
import { inFreshProcess } from './fresh-process.js';
import { fixture } from './isolation-berth.js';
import { percentile, type BenchResult, type Figure } from './report.js';
import { measureGuest, type GuestFigures } from './runtime-guest.js';
import type { InstancesMemory, InstancesMemoryInput } from './runtime-memory-main.js';
import { measureSandboxes, type SandboxFigures } from './runtime-sandbox.js';
import { perInstanceBytes, runtimeTargets } from './runtime-targets.js';
import { targetLine, type Target } from './targets.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** One engine's figures, all from the same run. */
export interface EngineRuntime {
  engine: EngineKind;
  /** A fresh cache each round: the whole work from bytes to an artifact (jco: transpile too). */
  compileColdMs: number[];
  /** A new engine over the cache the cold round filled: found on disk and checked. */
  compileCachedMs: number[];
  guest: GuestFigures;
  /** Live `hello` instances in one thread of a fresh process. */
  memory: InstancesMemory;
  sandbox: SandboxFigures;
}

export interface RuntimeData {
  engines: EngineRuntime[];
  /** V8's own Wasm → JS import call in a worker, and the same through the synchronous bridge to the main thread (engine-neutral). */
  workerHostCall: { directUs: number; bridgeUs: number };
  targets: Target[];
  load: { before: number[]; after: number[] };
  quick: boolean;
}

/** `npm run bench -- runtime [--quick] [--engines jco,wasmtime]` (docs/benchmarks.md, runtime). */
export async function run(argv: string[]): Promise<BenchResult> {
  const quick = argv.includes('--quick');
  const engines = enginesFromArgs(argv);
  const scratch = mkdtempSync(join(tmpdir(), 'berth-bench-runtime-'));
  const before = loadavg();
  try {
    const measured: EngineRuntime[] = [];
    for (const kind of engines) {
      process.stderr.write(`runtime: ${kind}\n`);
      measured.push(await measureEngine(kind, join(scratch, kind), quick));
    }
    const data: RuntimeData = {
      engines: measured,
      workerHostCall: await workerHostCall(quick ? 2000 : 20000),
      targets: [],
      load: { before, after: loadavg() },
      quick,
    };
    data.targets = runtimeTargets(data);
    return { bench: 'runtime', figures: figuresOf(data), notes: notesOf(data), data };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function measureEngine(kind: EngineKind, dir: string, quick: boolean): Promise<EngineRuntime> {
  const hello = fixture('hello');
  const compileColdMs: number[] = [];
  const compileCachedMs: number[] = [];
  for (let i = 0; i < (quick ? 2 : 6); i++) {
    const cacheDir = join(dir, `cold-${i}`);
    const cold = await benchEngine(kind, cacheDir);
    const t0 = performance.now();
    await cold.compile(hello, { memoryLimitBytes: 16 * MiB });
    compileColdMs.push(performance.now() - t0);
    const again = await benchEngine(kind, cacheDir);
    const t1 = performance.now();
    await again.compile(hello, { memoryLimitBytes: 16 * MiB });
    compileCachedMs.push(performance.now() - t1);
  }
  const cacheDir = join(dir, 'warm');
  const engine = await benchEngine(kind, cacheDir);
  const guest = await measureGuest(
    kind,
    engine,
    dir,
    quick ? { instances: 500, calls: 2000, floods: 1, runaways: 3 } : { instances: 5000, calls: 20000, floods: 5, runaways: 20 },
  );
  const count = kind === 'wasmtime' ? (quick ? 1000 : 10_000) : quick ? 200 : 2000;
  const memoryInput: InstancesMemoryInput = { engine: kind, cacheDir, dataDir: dir, count, budgetMs: 120_000 };
  const memory = await inFreshProcess<InstancesMemory>('runtime-memory-main.js', memoryInput, 180_000);
  const sandbox = await measureSandboxes(engine, dir, quick ? { cold: 5, runaways: 3 } : { cold: 20, runaways: 10 });
  // The first cold compile also loads the engine's own code (jco's transpiler, the Wasmtime library).
  return { engine: kind, compileColdMs: compileColdMs.slice(1), compileCachedMs: compileCachedMs.slice(1), guest, memory, sandbox };
}

/** A core Wasm loop calling a host import, in a worker: answered there, or by the main thread through the sync bridge. */
async function workerHostCall(calls: number): Promise<{ directUs: number; bridgeUs: number }> {
  const loopWasm = await parse(`(module (import "host" "call" (func $call (param i32) (result i32)))
    (func (export "loop") (param $n i32) (result i32) (local $acc i32)
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call $call (local.get $acc)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
      (local.get $acc)))`);
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  const close = serveBridge({ signal, port: port1 }, { echo: (x: number) => x + 1 });
  const w = new Worker(distPath('bench/bridge-worker.js'), { workerData: { channel: { signal, port: port2 }, calls, wasm: loopWasm }, transferList: [port2] });
  try {
    return await new Promise<{ directUs: number; bridgeUs: number }>((resolve, reject) => w.once('message', resolve).once('error', reject));
  } finally {
    close();
    await w.terminate();
  }
}

function figuresOf(data: RuntimeData): Figure[] {
  const figures: Figure[] = [];
  const p = percentile;
  for (const e of data.engines) {
    const add = (name: string, value: number, unit: string, note?: string) =>
      figures.push({ name: `${e.engine}: ${name}`, value, unit, ...(note ? { note } : {}) });
    const per = perInstanceBytes(e.memory);
    add(
      'compile, cold',
      p(e.compileColdMs, 50),
      'ms',
      `hello; median of ${e.compileColdMs.length} fresh caches${e.engine === 'jco' ? ' (transpile included)' : ''}`,
    );
    add('compile, cached on disk', p(e.compileCachedMs, 50), 'ms', 'a new engine over the same cache');
    add('instantiate p50', p(e.guest.instantiateMs, 50), 'ms', `${e.guest.instantiateMs.length} instances of hello, host APIs linked, in-thread`);
    add('instantiate p99', p(e.guest.instantiateMs, 99), 'ms');
    add('export call add', e.guest.exportCallUs, 'µs', 'add(u32, u32) in-thread, per call');
    add('host call', e.guest.hostCallUs, 'µs', 'logflood: 100,000 calls of log() to a host function that does nothing');
    add('memory per live instance', per / 2 ** 10, 'KiB', `${e.memory.started} live hello instances in one thread of a fresh process: RSS growth`);
    add('instances in 1 GiB', Math.floor(GiB / per), 'instances');
    if (e.guest.runawayOverrunMs.length > 0) {
      add(
        'runaway past its deadline, in-thread, p50',
        p(e.guest.runawayOverrunMs, 50),
        'ms',
        `spin, 50 ms deadline, ${e.guest.runawayOverrunMs.length} runs: deadline to the call returning`,
      );
      add('runaway past its deadline, in-thread, max', Math.max(...e.guest.runawayOverrunMs), 'ms');
    }
    add('cold start, fresh worker', p(e.sandbox.coldMs, 50), 'ms', 'compiled; to first call returned');
    add('cold start, pre-started worker', p(e.sandbox.pooledMs, 50), 'ms', 'pool of 2');
    add(
      'runaway past its deadline, worker, p50',
      p(e.sandbox.runawayOverrunMs, 50),
      'ms',
      `spin, 50 ms deadline, ${e.sandbox.runawayOverrunMs.length} runs: deadline to the outcome in the controlling thread`,
    );
    add('runaway past its deadline, worker, max', Math.max(...e.sandbox.runawayOverrunMs), 'ms');
    add(
      'stop a runaway app',
      p(e.sandbox.stopMs, 50),
      'ms',
      e.engine === 'jco' ? 'worker.terminate()' : 'halted at the next epoch tick; the thread exits on its own',
    );
  }
  figures.push({ name: 'host call in a worker, V8 import', value: data.workerHostCall.directUs, unit: 'µs', note: 'core Wasm → JS, engine-neutral' });
  figures.push({ name: 'host call in a worker, sync bridge', value: data.workerHostCall.bridgeUs, unit: 'µs', note: 'Atomics.wait + main-thread answer' });
  return figures;
}

function notesOf(data: RuntimeData): string[] {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  return [
    ...data.targets.map(targetLine),
    'the instance tier against a container (issue 13: Wasmtime ≥ 100× faster cold start than runc) is judged by `npm run bench -- isolation`',
    `load average before ${load(data.load.before)}, after ${load(data.load.after)}`,
  ];
}
