import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { distPath } from '../../common/paths.js';
import type { CompiledComponent } from '../engine/engine.js';
import type { FromWorker, PreloadRequest, ToWorker } from './protocol.js';
import { artifactKey } from '../engine/artifact.js';

/** What a worker needs to preload an app: its artifact. */
export type Preload = Pick<CompiledComponent, 'artifact'>;

/**
 * How long after a taken worker has loaded its app the pool starts its replacement: a thread
 * coming up costs ~35 ms of CPU, and on a two-core device it would otherwise compete with the
 * start the caller is waiting for (its first call usually follows the load at once).
 */
const REFILL_AFTER_LOAD_MS = 25;
/** Replaces a taken worker anyway when it never reports a load (its caller gave up on it). */
const REFILL_AT_LATEST_MS = 2_000;

let entry: string | undefined;

/** The bundled worker (one file, faster to start) when the build made it, else the module graph. */
function workerEntry(): string {
  if (entry) return entry;
  const bundle = distPath('runtime/sandbox/worker-main.bundle.cjs');
  return (entry = existsSync(bundle) ? bundle : distPath('runtime/sandbox/worker-main.js'));
}

export interface WorkerLimits {
  jsHeapMb: number;
}

/**
 * Starts worker threads for the worker tier. A fresh worker has no environment (`env: {}`), no
 * inherited argv, and a bounded JS heap; its stdout/stderr are captured and dropped, since an
 * app's output reaches the logs only through its host APIs.
 */
/** Each sandbox worker's halt flag: set, every guest it runs in Wasmtime stops at the next epoch tick. */
const haltFlags = new WeakMap<Worker, Int32Array>();

export function haltFlagOf(worker: Worker): Int32Array {
  let flag = haltFlags.get(worker);
  if (!flag) haltFlags.set(worker, (flag = new Int32Array(new SharedArrayBuffer(4))));
  return flag;
}

export function spawnSandboxWorker(limits: WorkerLimits): Worker {
  const halt = new SharedArrayBuffer(4);
  const worker = new Worker(workerEntry(), {
    workerData: { halt },
    env: {},
    argv: [],
    execArgv: [],
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: limits.jsHeapMb, maxYoungGenerationSizeMb: Math.max(4, Math.ceil(limits.jsHeapMb / 8)), stackSizeMb: 4 },
  });
  haltFlags.set(worker, new Int32Array(halt));
  worker.stdout.resume();
  worker.stderr.resume();
  return worker;
}

/** Resolves once the worker has loaded its code and says it is idle. */
export function whenIdle(worker: Worker, timeoutMs = 10_000): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`sandbox worker did not start within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: { type?: string }) => {
      if (m?.type === 'idle') done();
    };
    const onError = (err: Error) => done(err);
    const onExit = (code: number) => done(new Error(`sandbox worker exited with code ${code} while starting`));
    function done(err?: Error) {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (err) {
        void worker.terminate();
        reject(err);
      } else resolve(worker);
    }
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

/**
 * Keeps `size` idle workers started so an app starts without paying for thread start-up
 * (~30 ms here); each taken worker is replaced in the background. Workers in the pool have
 * loaded no app yet, so a pooled worker carries nothing from any other app.
 */
export class WorkerPool {
  private readonly idle: Promise<Worker>[] = [];
  private readonly preloads = new Map<string, PreloadRequest>();
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly limits: WorkerLimits,
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.startOne());
  }

  private startOne(): Promise<Worker> {
    const p = whenIdle(spawnSandboxWorker(this.limits)).then((worker) => {
      for (const request of this.preloads.values()) worker.postMessage(request);
      return worker;
    });
    p.catch(() => {});
    return p;
  }

  /**
   * Has every idle worker, now and later, load this app's glue ahead of time and warm it up: an
   * app that is deployed here (and may crash and restart) then starts without parsing or
   * compiling it. Glue is code generated from a component the runtime admitted; loading and
   * warming it runs no guest code (warm-up.ts).
   */
  preload({ artifact }: Preload): void {
    const key = artifactKey(artifact);
    if (this.preloads.has(key)) return;
    const request: PreloadRequest = { type: 'preload', artifact };
    this.preloads.set(key, request);
    for (const p of this.idle)
      void p.then(
        (w) => w.postMessage(request),
        () => {},
      );
  }

  forget({ artifact }: Preload): void {
    this.preloads.delete(artifactKey(artifact));
  }

  /** A started worker: from the pool when one is ready, else a new one. */
  async acquire(): Promise<Worker> {
    if (this.closed) throw new Error('worker pool is closed');
    const next = this.idle.shift();
    const worker = await (next ?? Promise.reject(new Error('pool empty'))).catch(() => whenIdle(spawnSandboxWorker(this.limits)));
    this.refillAfterLoad(worker);
    return worker;
  }

  private refillAfterLoad(worker: Worker): void {
    const refill = () => {
      clearTimeout(latest);
      worker.off('message', onMessage).off('exit', refill);
      setTimeout(() => {
        if (!this.closed && this.idle.length < this.size) this.idle.push(this.startOne());
      }, REFILL_AFTER_LOAD_MS);
    };
    const onMessage = (m: FromWorker) => {
      if (m.type === 'ready' || m.type === 'load-failed') refill();
    };
    const latest = setTimeout(refill, REFILL_AT_LATEST_MS);
    worker.on('message', onMessage).once('exit', refill);
  }

  /** The glues handed to every new worker. */
  get preloaded(): string[] {
    return [...this.preloads.keys()];
  }

  /** Workers started or starting and not yet taken. */
  get idleWorkers(): number {
    return this.idle.length;
  }

  matches(limits: WorkerLimits): boolean {
    return limits.jsHeapMb === this.limits.jsHeapMb;
  }

  /**
   * Idle workers are asked to exit rather than terminated: one may be preloading an artifact, and
   * a thread terminated while koffi opens Wasmtime's C API aborts the process (seen on Node 24).
   * It reads the request once its preload is done; one that does not exit in time is terminated.
   */
  async close(): Promise<void> {
    this.closed = true;
    const pending = this.idle.splice(0);
    await Promise.all(pending.map(async (p) => exitWorker(await p.catch(() => undefined))));
  }
}

/** How long a worker asked to exit (halted, if it runs guests) has before it is terminated all the same. */
export const EXIT_GRACE_MS = 5_000;

function exitWorker(worker: Worker | undefined): Promise<void> {
  if (!worker) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => void worker.terminate(), EXIT_GRACE_MS);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.postMessage({ type: 'exit' } satisfies ToWorker);
  });
}
