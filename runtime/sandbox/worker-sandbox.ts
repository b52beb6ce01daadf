import { MessageChannel, type Worker } from 'node:worker_threads';
import { BerthError } from '../../common/errors.js';
import type { CompiledComponent } from '../engine/engine.js';
import { serveBridge } from './bridge.js';
import type { FromWorker, InvokeOutcome, InvokeRequest, LoadRequest, StopReason, StopReport } from './protocol.js';
import type { AppSpec, Sandbox, SandboxHooks } from './sandbox.js';
import { spawnSandboxWorker, whenIdle, type WorkerPool } from './worker-pool.js';

const LOAD_TIMEOUT_MS = 15_000;
const BRIDGE_TIMEOUT_MS = 30_000;

interface PendingCall {
  id: number;
  resolve: (outcome: InvokeOutcome) => void;
}

/**
 * The worker tier (default): one thread per app, with its own V8 heap and event loop. The
 * controller serialises invocations, arms a deadline for each one and ends the thread when it
 * passes, which stops even a guest that never returns to JavaScript.
 */
export class WorkerSandbox implements Sandbox {
  readonly tier = 'worker' as const;
  exports: string[] = [];
  memoryPages = 0;
  private nextId = 1;
  private current: PendingCall | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stopped: StopReport | undefined;
  private readonly stopListeners: ((report: StopReport) => void)[] = [];
  private closeBridge: () => void = () => {};

  private constructor(
    private readonly worker: Worker,
    private readonly spec: AppSpec,
    private readonly hooks: SandboxHooks,
  ) {}

  static async start(compiled: CompiledComponent, spec: AppSpec, hooks: SandboxHooks, pool?: WorkerPool): Promise<WorkerSandbox> {
    const worker = pool?.matches({ jsHeapMb: spec.limits.jsHeapMb })
      ? await pool.acquire()
      : await whenIdle(spawnSandboxWorker({ jsHeapMb: spec.limits.jsHeapMb }));
    const sandbox = new WorkerSandbox(worker, spec, hooks);
    await sandbox.load(compiled);
    return sandbox;
  }

  private load(compiled: CompiledComponent): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    this.closeBridge = serveBridge({ signal, port: port1 }, this.hooks.hostHandlers?.(this.spec) ?? {});
    const request: LoadRequest = {
      type: 'load',
      slot: 0,
      glueUrl: compiled.glueUrl,
      modules: compiled.modules,
      imports: compiled.info.imports,
      identity: this.spec.identity,
      grants: this.spec.grants,
      dataDir: this.spec.dataDir,
      bridge: { signal, port: port2 },
      bridgeTimeoutMs: BRIDGE_TIMEOUT_MS,
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail('load-failed', `the app did not instantiate within ${LOAD_TIMEOUT_MS} ms`), LOAD_TIMEOUT_MS);
      const fail = (reason: StopReason, message: string, code = 'instantiation-failed') => {
        clearTimeout(timer);
        this.end(reason, message);
        reject(new BerthError(code, message));
      };
      this.worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          this.exports = m.exports;
          resolve();
        } else if (m.type === 'load-failed') fail('load-failed', m.message, m.code);
        else this.onMessage(m);
      });
      this.worker.on('error', (err: Error & { code?: string }) => {
        const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
        this.end(oom ? 'out-of-memory' : 'crash', oom ? 'the app exhausted its JS heap' : `the app's worker failed: ${err.message}`);
        clearTimeout(timer);
        reject(new BerthError(oom ? 'out-of-memory' : 'crash', err.message));
      });
      this.worker.on('exit', (code) => {
        this.end('crash', `the app's worker exited with code ${code}`);
        clearTimeout(timer);
        reject(new BerthError('crash', `the app's worker exited with code ${code}`));
      });
      this.worker.postMessage(request, [port2]);
    });
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'log') this.hooks.log(this.spec.identity, m.record);
    else if (m.type === 'usage') {
      this.memoryPages = m.memoryPages;
      this.hooks.usage?.(this.spec.identity, m); // accounting (issue 7, docs/accounting.md)
    }
    else if (m.type === 'result' && this.current?.id === m.id) {
      const call = this.current;
      this.current = undefined;
      call.resolve(m.ok ? { ok: true, value: m.value } : { ok: false, failure: m.failure });
      // A trap leaves a component instance unusable: end the thread, the supervisor restarts.
      if (!m.ok && m.failure.kind === 'trap') this.end('trap', m.failure.message);
    }
  }

  invoke(fn: string, args: unknown[] = []): Promise<InvokeOutcome> {
    const run = () => this.invokeNow(fn, args);
    const result = this.queue.then(run, run);
    this.queue = result;
    return result;
  }

  private invokeNow(fn: string, args: unknown[]): Promise<InvokeOutcome> {
    if (this.stopped) return Promise.resolve(stoppedOutcome(this.stopped));
    return new Promise((resolve) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.end('deadline', `${fn} ran past its ${this.spec.limits.cpuDeadlineMs} ms deadline`);
      }, this.spec.limits.cpuDeadlineMs);
      this.current = {
        id,
        resolve: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
      };
      this.worker.postMessage({ type: 'invoke', slot: 0, id, fn, args } satisfies InvokeRequest);
    });
  }

  /** Ends the sandbox once, settling a call in flight and telling the listeners why. */
  private end(reason: StopReason, message: string): void {
    if (this.stopped) return;
    this.stopped = { reason, message, at: Date.now() };
    void this.worker.terminate();
    this.closeBridge();
    const call = this.current;
    this.current = undefined;
    call?.resolve(stoppedOutcome(this.stopped));
    for (const listener of this.stopListeners) listener(this.stopped);
  }

  async stop(): Promise<void> {
    this.end('stopped', 'stopped by the runtime');
    await this.worker.terminate();
  }

  onStop(listener: (report: StopReport) => void): void {
    if (this.stopped) listener(this.stopped);
    else this.stopListeners.push(listener);
  }
}

function stoppedOutcome(report: StopReport): InvokeOutcome {
  return { ok: false, failure: { kind: 'sandbox-stopped', reason: report.reason, message: report.message } };
}
