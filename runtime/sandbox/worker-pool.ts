import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { distPath } from '../../common/paths.js';
import type { PreloadRequest } from './protocol.js';

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
export function spawnSandboxWorker(limits: WorkerLimits): Worker {
  const worker = new Worker(workerEntry(), {
    env: {},
    argv: [],
    execArgv: [],
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: limits.jsHeapMb, maxYoungGenerationSizeMb: Math.max(4, Math.ceil(limits.jsHeapMb / 8)), stackSizeMb: 4 },
  });
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
  private readonly preloads = new Set<string>();
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly limits: WorkerLimits,
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.startOne());
  }

  private startOne(): Promise<Worker> {
    const p = whenIdle(spawnSandboxWorker(this.limits)).then((worker) => {
      for (const glueUrl of this.preloads) worker.postMessage({ type: 'preload', glueUrl } satisfies PreloadRequest);
      return worker;
    });
    p.catch(() => {});
    return p;
  }

  /**
   * Has every idle worker, now and later, load this app's glue ahead of time: an app that is
   * deployed here (and may crash and restart) then starts without parsing it. Glue is code
   * generated from a component the runtime admitted; loading it runs no guest code.
   */
  preload(glueUrl: string): void {
    if (this.preloads.has(glueUrl)) return;
    this.preloads.add(glueUrl);
    for (const p of this.idle) void p.then((w) => w.postMessage({ type: 'preload', glueUrl } satisfies PreloadRequest), () => {});
  }

  forget(glueUrl: string): void {
    this.preloads.delete(glueUrl);
  }

  /** A started worker: from the pool when one is ready, else a new one. */
  async acquire(): Promise<Worker> {
    if (this.closed) throw new Error('worker pool is closed');
    const next = this.idle.shift();
    if (this.idle.length < this.size) this.idle.push(this.startOne());
    if (next) {
      try {
        return await next;
      } catch {
        // fall through to a fresh worker
      }
    }
    return whenIdle(spawnSandboxWorker(this.limits));
  }

  matches(limits: WorkerLimits): boolean {
    return limits.jsHeapMb === this.limits.jsHeapMb;
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.idle.splice(0);
    await Promise.all(pending.map(async (p) => (await p.catch(() => undefined))?.terminate()));
  }
}
