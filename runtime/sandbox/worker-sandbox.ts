import type { CompiledComponent } from '../engine/engine.js';
import type { InvokeOutcome, StopReason, StopReport } from './protocol.js';
import type { AppSpec, Sandbox, SandboxHooks } from './sandbox.js';
import { SandboxThread, type SlotOwner } from './sandbox-thread.js';
import { spawnSandboxWorker, type WorkerPool } from './worker-pool.js';

/**
 * An app instance in a slot of a sandbox thread. In the `worker` tier (default) the thread is
 * the app's own; in the `instance` tier several apps share one thread (see instance-tier.ts).
 */
export class ThreadSandbox implements Sandbox, SlotOwner {
  exports: string[] = [];
  memoryPages = 0;
  entryPoint: Promise<InvokeOutcome> | undefined;
  private slot = -1;
  private stopped: StopReport | undefined;
  private readonly listeners: ((report: StopReport) => void)[] = [];

  constructor(
    readonly tier: 'worker' | 'instance',
    private readonly thread: SandboxThread,
    readonly spec: AppSpec,
    readonly hooks: SandboxHooks,
  ) {}

  /**
   * Places the app on the thread, and starts its entry point in the same step when the hooks ask
   * for it; rejects (and ends nothing else) if it cannot instantiate.
   */
  async place(compiled: CompiledComponent): Promise<this> {
    const { slot, exports, entryPoint } = await this.thread.place(compiled, this);
    this.slot = slot;
    this.exports = exports;
    this.entryPoint = entryPoint;
    return this;
  }

  get threadId(): number {
    return this.thread.threadId;
  }

  invoke(fn: string, args: unknown[] = []): Promise<InvokeOutcome> {
    if (this.stopped) return Promise.resolve({ ok: false, failure: { kind: 'sandbox-stopped', reason: this.stopped.reason, message: this.stopped.message } });
    return this.thread.invoke(this.slot, fn, args);
  }

  async stop(): Promise<void> {
    this.onEnd('stopped', 'stopped by the runtime');
    await this.thread.unload(this.slot);
  }

  onStop(listener: (report: StopReport) => void): void {
    if (this.stopped) listener(this.stopped);
    else this.listeners.push(listener);
  }

  onUsage(memoryPages: number): void {
    this.memoryPages = memoryPages;
  }

  onEnd(reason: StopReason, message: string): void {
    if (this.stopped) return;
    this.stopped = { reason, message, at: Date.now() };
    for (const listener of this.listeners) listener(this.stopped);
  }
}

/** The worker tier: a thread of the app's own, from the pool when one is ready. */
export class WorkerSandbox {
  static async start(compiled: CompiledComponent, spec: AppSpec, hooks: SandboxHooks, pool?: WorkerPool): Promise<ThreadSandbox> {
    // A new thread is sent the load at once rather than after it says it is idle: the message
    // waits for it, and the round trip saved is ~1 ms of a fresh start. A thread that fails to
    // come up ends like any other (its error or exit), one that hangs at its load's deadline.
    const worker = pool?.matches({ jsHeapMb: spec.limits.jsHeapMb }) ? await pool.acquire() : spawnSandboxWorker({ jsHeapMb: spec.limits.jsHeapMb });
    const thread = new SandboxThread(worker, 1);
    try {
      return await new ThreadSandbox('worker', thread, spec, hooks).place(compiled);
    } catch (err) {
      await thread.terminate();
      throw err;
    }
  }
}
