import type { Worker } from 'node:worker_threads';
import { BerthError } from '../../common/errors.js';
import type { CompiledComponent } from '../engine/engine.js';
import { artifactForThread, artifactKey, interruptsInThread } from '../engine/artifact.js';
import { EXIT_GRACE_MS, haltFlagOf } from './worker-pool.js';
import { serveBridge, type BridgeHandlers } from './bridge.js';
import { CallQueue, type QueuedCall } from './call-queue.js';
import {
  monotonicMs,
  type ToWorker,
  type FromWorker,
  type InvokeOutcome,
  type InvokeRequest,
  type LoadRequest,
  type StopReason,
  type UsageReport,
} from './protocol.js';
import type { AppSpec, SandboxHooks } from './sandbox.js';

const INSTANTIATE_DEADLINE_MS = 15_000;
/** The name a load goes by in the call queue and in the message of its deadline. */
const INSTANTIATION = 'instantiation';
const BRIDGE_TIMEOUT_MS = 30_000;

/** What a thread tells one of its instances: it sends results, logs and usage, and its end. */
export interface SlotOwner {
  readonly spec: AppSpec;
  readonly hooks: SandboxHooks;
  onUsage(memoryPages: number): void;
  /** The thread ended, or this slot's instance trapped: the slot is gone. */
  onEnd(reason: StopReason, message: string): void;
}

export interface Placed {
  slot: number;
  exports: string[];
  /** The entry point, started by the worker right after instantiation (SandboxHooks.runEntryPoint). */
  entryPoint?: Promise<InvokeOutcome>;
}

interface Slot {
  owner: SlotOwner;
  handlers: BridgeHandlers;
  closeBridge?: () => void;
  unloaded: Int32Array;
  /** How long the controller lets a call run before it ends the thread (controllerDeadline). */
  callDeadlineMs: number;
  ready?: { resolve: (placed: Placed) => void; reject: (err: Error) => void };
}

/**
 * One sandbox worker thread holding one app instance (worker tier) or several (instance tier),
 * each in a numbered slot with its own host objects and its own bridge. Calls are sent as they
 * come and the worker runs them one at a time, in order; each has the calling app's deadline,
 * counted from when the worker started it (when the call before it ended), and past it the whole
 * thread is ended, since nothing else can stop Wasm that never returns to JavaScript. The app that
 * ran past its deadline is told `deadline`; any neighbours on the thread are told `crash`.
 */
export class SandboxThread {
  private readonly slots = new Map<number, Slot>();
  /** Artifacts this thread has been sent: what it keeps once loaded need not cross again. */
  private readonly artifactsSent = new Set<string>();
  /** Loads sent and not yet answered, by slot: each is queued like a call (see place). */
  private readonly loads = new Map<number, QueuedCall>();
  private nextSlot = 0;
  private readonly calls = new CallQueue((call) => this.end('deadline', `${call.fn} ran past its ${call.deadlineMs} ms deadline`, call.slot));
  private ended: { reason: StopReason; message: string; culprit?: number } | undefined;
  /** Slots whose engine stops a guest in its thread: the thread is never terminated under them (retire). */
  private readonly interruptible = new Set<number>();
  private readonly exited: Promise<void>;

  constructor(
    private readonly worker: Worker,
    readonly capacity: number,
  ) {
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err: Error & { code?: string }) => {
      // Out of heap, the app whose call (or load) was running is taken for the culprit: on a
      // shared thread its neighbours are told `crash` and restarted, and it runs alone from then on.
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') this.end('out-of-memory', 'the sandbox thread exhausted its JS heap', this.calls.running()?.slot);
      else this.end('crash', `the sandbox thread failed: ${err.message}`);
    });
    worker.on('exit', (code) => this.end('crash', `the sandbox thread exited with code ${code}`));
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  get load(): number {
    return this.slots.size;
  }

  get alive(): boolean {
    return !this.ended;
  }

  hasRoom(): boolean {
    return this.alive && this.slots.size < this.capacity;
  }

  /**
   * Instantiates an app in a new slot; resolves with its exported function names, and with its
   * entry point's outcome when `owner.hooks.runEntryPoint` asked the worker to start it at once.
   */
  place(compiled: CompiledComponent, owner: SlotOwner): Promise<Placed> {
    if (!this.hasRoom()) return Promise.reject(new BerthError('sandbox-full', 'this sandbox thread has no room for another app'));
    const slotId = this.nextSlot++;
    const unloaded = new SharedArrayBuffer(4);
    // Asked for now, as before any call: a wrapper may open per-instance state here (messaging).
    const slot: Slot = {
      owner,
      handlers: owner.hooks.hostHandlers?.(owner.spec) ?? {},
      unloaded: new Int32Array(unloaded),
      callDeadlineMs: owner.spec.limits.cpuDeadlineMs,
    };
    this.slots.set(slotId, slot);
    // The load runs in the thread's order like a call, so it has a deadline like one: a start
    // function that never returns would otherwise hold every neighbour's call on a shared thread,
    // and their deadlines, which only start when the thread is free for them, would never fire.
    const instantiateDeadlineMs = owner.spec.limits.instantiateDeadlineMs ?? INSTANTIATE_DEADLINE_MS;
    this.loads.set(slotId, this.calls.add(slotId, INSTANTIATION, controllerDeadline(compiled.artifact, instantiateDeadlineMs)));
    slot.callDeadlineMs = controllerDeadline(compiled.artifact, owner.spec.limits.cpuDeadlineMs);
    if (interruptsInThread(compiled.artifact)) this.interruptible.add(slotId);
    const entry = owner.hooks.runEntryPoint ? this.calls.add(slotId, 'run', slot.callDeadlineMs, true) : undefined;
    const key = artifactKey(compiled.artifact);
    const request: LoadRequest = {
      type: 'load',
      slot: slotId,
      artifact: artifactForThread(compiled.artifact, !this.artifactsSent.has(key)),
      imports: compiled.info.imports,
      identity: owner.spec.identity,
      grants: owner.spec.grants,
      dataDir: owner.spec.dataDir,
      unloaded,
      bridgeTimeoutMs: BRIDGE_TIMEOUT_MS,
      cpuDeadlineMs: owner.spec.limits.cpuDeadlineMs,
      instantiateDeadlineMs,
      entryCall: entry?.id,
    };
    this.artifactsSent.add(key);
    return new Promise((resolve, reject) => {
      slot.ready = { resolve, reject };
      this.worker.postMessage(request);
    });
  }

  invoke(slotId: number, fn: string, args: unknown[]): Promise<InvokeOutcome> {
    const slot = this.slots.get(slotId);
    if (!slot) return Promise.resolve(gone(this.ended?.reason ?? 'stopped', this.ended?.message ?? 'the app is not loaded'));
    const call = this.calls.add(slotId, fn, slot.callDeadlineMs);
    this.worker.postMessage({ type: 'invoke', slot: slotId, id: call.id, fn, args } satisfies InvokeRequest);
    return call.settled;
  }

  /** Takes one app off the thread; the thread itself ends when its last app is gone. */
  async unload(slotId: number): Promise<void> {
    if (!this.slots.has(slotId)) return;
    this.removeSlot(slotId);
    if (this.alive) this.worker.postMessage({ type: 'unload', slot: slotId });
    if (this.slots.size === 0 && this.capacity === 1) await this.terminate();
  }

  async terminate(): Promise<void> {
    this.end('stopped', 'stopped by the runtime');
    await this.exited;
  }

  /**
   * Ends the worker. A thread that has run Wasmtime must not be terminated from outside: inside
   * a guest, V8 would unwind through Wasmtime's frames (a host callback that never returns),
   * which corrupts the process and every tenant in it; between calls it may be in koffi (an
   * artifact preloaded for the next app), which aborts the process when terminated there. So its
   * guests are halted at the next epoch tick and it is asked to exit on its own; only if it does
   * not, it is terminated. A jco thread is terminated at once: its guest cannot be stopped otherwise.
   */
  private retire(): void {
    const running = this.calls.running();
    if (this.interruptible.size === 0 || (running && !this.interruptible.has(running.slot))) {
      void this.worker.terminate();
      return;
    }
    Atomics.store(haltFlagOf(this.worker), 0, 1);
    this.worker.postMessage({ type: 'exit' } satisfies ToWorker);
    const timer = setTimeout(() => void this.worker.terminate(), EXIT_GRACE_MS);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
  }

  private removeSlot(slotId: number): void {
    const slot = this.slots.get(slotId);
    if (!slot) return;
    this.slots.delete(slotId);
    // Calls to it already sent are skipped by the worker, as if they had never been made.
    Atomics.store(slot.unloaded, 0, 1);
    slot.closeBridge?.();
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'idle':
        return;
      case 'result':
        this.settle(m);
        return;
      case 'ready':
      case 'load-failed':
        this.loaded(m);
        return;
      case 'bridge': {
        const slot = this.slots.get(m.slot);
        if (!slot || slot.closeBridge) m.channel.port.close();
        else slot.closeBridge = serveBridge(m.channel, slot.handlers);
        return;
      }
      case 'log': {
        const slot = this.slots.get(m.slot);
        slot?.owner.hooks.log(slot.owner.spec.identity, m.record);
      }
    }
  }

  private loaded(m: Extract<FromWorker, { type: 'ready' | 'load-failed' }>): void {
    // Also for a slot stopped while it loaded: the worker was busy with it all the same.
    const load = this.loads.get(m.slot);
    this.loads.delete(m.slot);
    if (load) this.calls.finish(load.id, m.at);
    const entry = this.calls.entryOf(m.slot);
    const started = m.type === 'ready' && m.entryStarted;
    if (entry && started) this.calls.entryStarted(entry, m.at);
    else if (entry) this.calls.drop(entry, m.at); // no entry point to run: the calls behind go on at once
    const slot = this.slots.get(m.slot);
    if (!slot) {
      // It was stopped meanwhile: its instance, if any, has no owner any more.
      if (m.type === 'ready' && this.alive) this.worker.postMessage({ type: 'unload', slot: m.slot });
      return;
    }
    if (m.type === 'load-failed') {
      this.removeSlot(m.slot);
      slot.ready?.reject(new BerthError(m.code, m.message));
      return;
    }
    this.usage(slot, m.usage);
    slot.ready?.resolve({ slot: m.slot, exports: m.exports, entryPoint: started ? entry?.settled : undefined });
    slot.ready = undefined;
  }

  private usage(slot: Slot, report: UsageReport): void {
    slot.owner.onUsage(report.memoryPages);
    slot.owner.hooks.usage?.(slot.owner.spec.identity, report); // accounting (issue 7, docs/accounting.md)
  }

  /**
   * Settles the call that ended, even if its app was unloaded meanwhile, and starts the deadline
   * of the next one, which the worker started when this one ended.
   */
  private settle(m: Extract<FromWorker, { type: 'result' }>): void {
    const call = this.calls.finish(m.id, m.endedAt);
    if (!call) return;
    const slot = this.slots.get(m.slot);
    if (slot && m.usage) this.usage(slot, m.usage);
    call.resolve(m.ok ? { ok: true, value: m.value } : { ok: false, failure: m.failure });
    // A trap, or an interrupt by the engine (deadline, stop), leaves that component instance
    // unusable; its neighbours are unaffected.
    if (slot && !m.ok && (m.failure.kind === 'trap' || m.failure.kind === 'sandbox-stopped')) {
      void this.unload(m.slot);
      slot.owner.onEnd(m.failure.kind === 'trap' ? 'trap' : m.failure.reason, m.failure.message);
    }
  }

  /** Ends the thread once: settles every call sent and tells every slot why. */
  private end(reason: StopReason, message: string, culprit?: number): void {
    if (this.ended) return;
    this.ended = { reason, message, culprit };
    this.retire();
    const calls = this.calls.takeAll();
    const slots = [...this.slots.entries()];
    this.slots.clear();
    const culpritName = slots.find(([id]) => id === culprit)?.[1].owner.spec.identity.app ?? 'another app';
    const whyFor = (id: number) =>
      culprit === undefined || culprit === id
        ? { reason, message }
        : { reason: 'crash' as const, message: `its sandbox thread was ended: ${culpritName} ${CULPRIT_DID[reason] ?? 'failed'}` };
    const present = new Set(slots.map(([id]) => id));
    for (const call of calls) {
      const why = present.has(call.slot) ? whyFor(call.slot) : { reason: 'stopped' as const, message: 'the app is not loaded' };
      call.resolve(gone(why.reason, why.message));
    }
    for (const [id, slot] of slots) {
      slot.closeBridge?.();
      const why = whyFor(id);
      slot.ready?.reject(new BerthError(startFailure(why.reason), why.message));
      slot.owner.onEnd(why.reason, why.message);
    }
  }
}

/**
 * An engine that interrupts a guest in its own thread keeps the call's deadline there, and only
 * its neighbours' calls wait for it; the controller ends the thread only if that fails, after a
 * grace period (a guest blocked in a host call is not running Wasm and cannot be interrupted).
 */
export const INTERRUPT_GRACE_MS = 2_000;
function controllerDeadline(artifact: CompiledComponent['artifact'], cpuDeadlineMs: number): number {
  return interruptsInThread(artifact) ? cpuDeadlineMs + INTERRUPT_GRACE_MS : cpuDeadlineMs;
}

/** What a culprit did that ended its thread, as its neighbours are told. */
const CULPRIT_DID: Partial<Record<StopReason, string>> = { deadline: 'ran past its deadline', 'out-of-memory': "exhausted the thread's JS heap" };

/** Why a start that was still loading failed: a deadline then can only be its instantiation's. */
function startFailure(reason: StopReason): string {
  if (reason === 'deadline') return 'instantiation-deadline';
  return reason === 'out-of-memory' ? 'out-of-memory' : 'crash';
}

function gone(reason: StopReason, message: string): InvokeOutcome {
  return { ok: false, failure: { kind: 'sandbox-stopped', reason, message } };
}
