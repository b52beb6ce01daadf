import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { parse } from '@bytecodealliance/jco';
import { distPath, projectRoot } from '../common/paths.js';
import { parseGrants } from '../host-apis/grants.js';
import { JcoEngine } from '../runtime/engine/jco/jco-engine.js';
import type { ComponentGlue } from '../runtime/engine/jco/glue-types.js';
import { JcoGuestComponent } from '../runtime/engine/jco/guest.js';
import { AppInstance } from '../runtime/sandbox/app-instance.js';
import { serveBridge } from '../runtime/sandbox/bridge.js';
import { DEFAULT_LIMITS, type AppSpec } from '../runtime/sandbox/sandbox.js';
import { WorkerPool } from '../runtime/sandbox/worker-pool.js';
import { WorkerSandbox } from '../runtime/sandbox/worker-sandbox.js';
import { percentile, type BenchResult, type Figure } from './report.js';

const MiB = 2 ** 20;

function fixture(name: string): Uint8Array {
  try {
    return readFileSync(join(projectRoot(), 'test', '.build', 'fixtures', `${name}.wasm`));
  } catch {
    throw new Error(`fixture ${name} is not built: run \`npm test\` once (it builds the fixtures) before this benchmark`);
  }
}

const median = (xs: number[]) => percentile(xs, 50);

export async function run(argv: string[]): Promise<BenchResult> {
  const quick = argv.includes('--quick');
  const figures: Figure[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'berth-bench-runtime-'));
  try {
    const hello = fixture('hello');
    const spin = fixture('spin');

    // Transpile and compile: a fresh cache each round, so every round does the full work.
    const transpileMs: number[] = [];
    const compileMs: number[] = [];
    for (let i = 0; i < (quick ? 2 : 5); i++) {
      const engine = new JcoEngine({ cacheDir: join(scratch, `cold-${i}`) });
      const t0 = performance.now();
      const { transpile } = await import('@bytecodealliance/jco');
      await transpile(hello, { name: 'component', instantiation: 'sync', noTypescript: true, quiet: true });
      transpileMs.push(performance.now() - t0);
      await engine.compile(hello, { memoryLimitBytes: 16 * MiB });
      const again = new JcoEngine({ cacheDir: join(scratch, `cold-${i}`) });
      const t1 = performance.now();
      await again.compile(hello, { memoryLimitBytes: 16 * MiB });
      compileMs.push(performance.now() - t1);
    }
    figures.push({ name: 'transpile (small WAT component)', value: median(transpileMs.slice(1)), unit: 'ms', note: 'jco, median after the first' });
    figures.push({ name: 'compile from transpile cache', value: median(compileMs), unit: 'ms', note: 'memory cap rewrite + WebAssembly.compile' });

    // Instantiation with compiled modules cached, in this thread.
    const engine = new JcoEngine({ cacheDir: join(scratch, 'warm') });
    const compiled = await engine.compile(hello, { memoryLimitBytes: 16 * MiB });
    const glue = (await import(compiled.artifact.glueUrl)) as ComponentGlue;
    const grants = parseGrants({ log: {} });
    const context = { identity: { vendor: 'bench', app: 'hello', instance: 'x' }, grants, dataDir: scratch, logSink: () => {} };
    const instantiateMs: number[] = [];
    const n = quick ? 500 : 5000;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      AppInstance.create(new JcoGuestComponent(glue, compiled.artifact), compiled.info.imports, context);
      instantiateMs.push(performance.now() - t0);
    }
    figures.push({ name: 'instantiate p50 (modules cached)', value: percentile(instantiateMs.slice(n / 10), 50), unit: 'ms', note: `${n} instances, host APIs linked` });
    figures.push({ name: 'instantiate p99 (modules cached)', value: percentile(instantiateMs.slice(n / 10), 99), unit: 'ms' });

    const instance = AppInstance.create(new JcoGuestComponent(glue, compiled.artifact), compiled.info.imports, context);
    const calls = quick ? 2000 : 20000;
    const tc = performance.now();
    for (let i = 0; i < calls; i++) instance.invoke('add', [i, 1]);
    figures.push({ name: 'export call through jco glue', value: ((performance.now() - tc) * 1000) / calls, unit: 'µs', note: 'add(u32,u32) in-thread' });

    // Host-call round trip inside a worker: direct vs through the sync bridge.
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
    const bridgeCalls = quick ? 2000 : 20000;
    const w = new Worker(distPath('bench/bridge-worker.js'), { workerData: { channel: { signal, port: port2 }, calls: bridgeCalls, wasm: loopWasm }, transferList: [port2] });
    const hostCall = await new Promise<{ directUs: number; bridgeUs: number }>((resolve, reject) => w.once('message', resolve).once('error', reject));
    close();
    await w.terminate();
    figures.push({ name: 'host call in worker, direct', value: hostCall.directUs, unit: 'µs' });
    figures.push({ name: 'host call in worker, sync bridge', value: hostCall.bridgeUs, unit: 'µs', note: 'Atomics.wait + main-thread answer' });

    // Cold start: bytes already compiled, fresh worker, to the first call returned.
    const spec = (app: string, cpuDeadlineMs = DEFAULT_LIMITS.cpuDeadlineMs): AppSpec => ({
      identity: { vendor: 'bench', app, instance: app },
      digest: compiled.digest,
      grants,
      dataDir: scratch,
      limits: { ...DEFAULT_LIMITS, memoryBytes: 16 * MiB, cpuDeadlineMs },
    });
    const hooks = { log: () => {} };
    const coldMs: number[] = [];
    for (let i = 0; i < (quick ? 5 : 20); i++) {
      const t0 = performance.now();
      const sandbox = await WorkerSandbox.start(compiled, spec('cold'), hooks);
      await sandbox.invoke('add', [1, 2]);
      coldMs.push(performance.now() - t0);
      await sandbox.stop();
    }
    figures.push({ name: 'cold start, fresh worker', value: median(coldMs), unit: 'ms', note: 'compiled modules cached; to first call returned' });

    const pool = new WorkerPool(2, { jsHeapMb: DEFAULT_LIMITS.jsHeapMb });
    pool.preload(compiled);
    const pooledMs: number[] = [];
    for (let i = 0; i < (quick ? 5 : 20); i++) {
      await new Promise((r) => setTimeout(r, 120)); // let the pool refill, as it would between deployments
      const t0 = performance.now();
      const sandbox = await WorkerSandbox.start(compiled, spec('pooled'), hooks, pool);
      await sandbox.invoke('add', [1, 2]);
      pooledMs.push(performance.now() - t0);
      await sandbox.stop();
    }
    await pool.close();
    figures.push({ name: 'cold start, pre-started worker', value: median(pooledMs), unit: 'ms', note: 'pool of 2, app glue preloaded' });

    // Kill of a runaway app: from the decision to stop to the thread gone.
    const spinCompiled = await engine.compile(spin, { memoryLimitBytes: 16 * MiB });
    const killMs: number[] = [];
    for (let i = 0; i < (quick ? 3 : 10); i++) {
      const sandbox = await WorkerSandbox.start(spinCompiled, { ...spec('spin', 60_000), digest: spinCompiled.digest, grants: {} }, hooks);
      void sandbox.invoke('run');
      await new Promise((r) => setTimeout(r, 30));
      const t0 = performance.now();
      await sandbox.stop();
      killMs.push(performance.now() - t0);
    }
    figures.push({ name: 'kill a runaway app', value: median(killMs), unit: 'ms', note: 'worker.terminate() of a guest in an endless loop' });

    return { bench: 'runtime', figures, notes: ['targets: instantiate p50 ≤ 0.2 ms; cold start ≤ 40 ms fresh, ≤ 5 ms pre-started'] };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
