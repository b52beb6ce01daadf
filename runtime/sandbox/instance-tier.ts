import { BerthError } from '../../common/errors.js';
import type { CompiledComponent } from '../engine/engine.js';
import { interruptsInThread } from '../engine/artifact.js';
import type { AppSpec, SandboxHooks } from './sandbox.js';
import { SandboxThread } from './sandbox-thread.js';
import { ThreadSandbox } from './worker-sandbox.js';
import { spawnSandboxWorker, whenIdle } from './worker-pool.js';

export interface InstanceTierOptions {
  /** Apps per shared thread on an engine whose runaway app ends its thread (jco): more is denser, and more neighbours restarted. */
  appsPerThread: number;
  /**
   * Apps per shared thread on an engine that stops a runaway inside the thread (Wasmtime): only
   * running out of JS heap ends such a thread, so it holds more. A thread costs ~8 MiB whatever
   * it holds; this is what puts 10,000 apps within 1 GiB (docs/runtime.md, "Tiers").
   */
  appsPerInterruptibleThread: number;
  /** JS heap of a shared thread, in MiB (glue and host objects of all its apps). */
  threadHeapMb: number;
}

export const DEFAULT_INSTANCE_TIER: InstanceTierOptions = { appsPerThread: 64, appsPerInterruptibleThread: 256, threadHeapMb: 512 };

/**
 * The `instance` tier: each app is a separate Wasm instance with its own host objects, and
 * several apps share one sandbox thread. Cheapest per app (no thread of its own); the cost, on
 * an engine that cannot stop a guest inside its thread (jco), is that an app running past its
 * CPU deadline ends its thread, and with it its neighbours there, which the supervisors then
 * restart. A trap ends only the app that trapped.
 */
export class InstanceTier {
  private readonly threads: SandboxThread[] = [];
  private opening: Promise<SandboxThread> | undefined;
  /** Apps that once ran past their deadline: they get a thread of their own from then on. */
  private readonly quarantined = new Set<string>();

  private readonly options: InstanceTierOptions;

  constructor(options: Partial<InstanceTierOptions> = {}) {
    this.options = { ...DEFAULT_INSTANCE_TIER, ...options };
  }

  async start(compiled: CompiledComponent, spec: AppSpec, hooks: SandboxHooks): Promise<ThreadSandbox> {
    const key = `${spec.identity.vendor}/${spec.identity.app}`;
    for (;;) {
      const interruptible = interruptsInThread(compiled.artifact);
      const thread = this.quarantined.has(key) ? await this.soloThread() : await this.threadWithRoom(interruptible);
      try {
        const sandbox = await new ThreadSandbox('instance', thread, spec, hooks).place(compiled);
        // A runaway app ends its whole thread; so that it cannot do that to its neighbours
        // again and again, its later instances run alone.
        // (An engine that stops a runaway inside the thread leaves the thread and its neighbours be.)
        sandbox.onStop((report) => {
          if ((report.reason === 'deadline' && !interruptible) || report.reason === 'out-of-memory') this.quarantined.add(key);
        });
        return sandbox;
      } catch (err) {
        // An app that never finished instantiating, or ran out of heap doing so, ended its thread: the same, for its later starts.
        if (err instanceof BerthError && ((err.code === 'instantiation-deadline' && !interruptible) || err.code === 'out-of-memory')) this.quarantined.add(key);
        // Several starts raced for the last slot of a thread: take another.
        if (!(err instanceof BerthError && err.code === 'sandbox-full')) throw err;
      }
    }
  }

  /** A shared thread with a free slot, of the capacity the app's engine allows (a thread's capacity is fixed when it opens). */
  private async threadWithRoom(interruptible: boolean): Promise<SandboxThread> {
    for (let i = this.threads.length - 1; i >= 0; i--) {
      const t = this.threads[i]!;
      if (!t.alive) this.threads.splice(i, 1);
    }
    const capacity = interruptible ? this.options.appsPerInterruptibleThread : this.options.appsPerThread;
    const free = this.threads.find((t) => t.capacity === capacity && t.hasRoom());
    if (free) return free;
    // One thread opens at a time, so a burst of starts fills it instead of opening many.
    this.opening ??= whenIdle(spawnSandboxWorker({ jsHeapMb: this.options.threadHeapMb }))
      .then((worker) => {
        const thread = new SandboxThread(worker, capacity);
        this.threads.push(thread);
        return thread;
      })
      .finally(() => (this.opening = undefined));
    const opened = await this.opening;
    return opened.capacity === capacity && opened.hasRoom() ? opened : this.threadWithRoom(interruptible);
  }

  private async soloThread(): Promise<SandboxThread> {
    const thread = new SandboxThread(await whenIdle(spawnSandboxWorker({ jsHeapMb: this.options.threadHeapMb })), 1);
    this.threads.push(thread);
    return thread;
  }

  isQuarantined(vendor: string, app: string): boolean {
    return this.quarantined.has(`${vendor}/${app}`);
  }

  get threadCount(): number {
    return this.threads.filter((t) => t.alive).length;
  }

  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
