import { MessageChannel, type Worker } from 'node:worker_threads';
import { BerthError } from '../../common/errors.js';
import type { CompiledComponent } from '../engine/engine.js';
import { serveBridge } from './bridge.js';
import type { FromWorker, InvokeOutcome, InvokeRequest, LoadRequest, StopReason } from './protocol.js';
import type { AppSpec, SandboxHooks } from './sandbox.js';

const LOAD_TIMEOUT_MS = 15_000;
const BRIDGE_TIMEOUT_MS = 30_000;

/** What a thread tells one of its instances: it sends results, logs and usage, and its end. */
export interface SlotOwner {
  readonly spec: AppSpec;
  readonly hooks: SandboxHooks;
  onUsage(memoryPages: number): void;
  /** The thread ended, or this slot's instance trapped: the slot is gone. */
  onEnd(reason: StopReason, message: string): void;
}

interface Slot {
  owner: SlotOwner;
  closeBridge: () => void;
  ready?: { resolve: (exports: string[]) => void; reject: (err: Error) => void };
}

interface Call {
  slot: number;
  id: number;
  resolve: (outcome: InvokeOutcome) => void;
}

/**
 * One sandbox worker thread holding one app instance (worker tier) or several (instance tier),
 * each in a numbered slot with its own host objects and its own bridge. The thread runs one
 * call at a time; each call has the calling app's deadline, and past it the whole thread is
 * ended, since nothing else can stop Wasm that never returns to JavaScript. The app that ran
 * past its deadline is told `deadline`; any neighbours on the thread are told `crash`.
 */
export class SandboxThread {
  private readonly slots = new Map<number, Slot>();
  private nextSlot = 0;
  private nextCall = 1;
  private current: Call | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private ended: { reason: StopReason; message: string; culprit?: number } | undefined;

  constructor(
    private readonly worker: Worker,
    readonly capacity: number,
  ) {
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err: Error & { code?: string }) => {
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.end(oom ? 'out-of-memory' : 'crash', oom ? 'the sandbox thread exhausted its JS heap' : `the sandbox thread failed: ${err.message}`);
    });
    worker.on('exit', (code) => this.end('crash', `the sandbox thread exited with code ${code}`));
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

  /** Instantiates an app in a new slot; resolves with its exported function names. */
  place(compiled: CompiledComponent, owner: SlotOwner): Promise<{ slot: number; exports: string[] }> {
    if (!this.hasRoom()) return Promise.reject(new BerthError('sandbox-full', 'this sandbox thread has no room for another app'));
    const slotId = this.nextSlot++;
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    const closeBridge = serveBridge({ signal, port: port1 }, owner.hooks.hostHandlers?.(owner.spec) ?? {});
    const slot: Slot = { owner, closeBridge };
    this.slots.set(slotId, slot);
    const request: LoadRequest = {
      type: 'load',
      slot: slotId,
      glueUrl: compiled.glueUrl,
      modules: compiled.modules,
      imports: compiled.info.imports,
      identity: owner.spec.identity,
      grants: owner.spec.grants,
      dataDir: owner.spec.dataDir,
      bridge: { signal, port: port2 },
      bridgeTimeoutMs: BRIDGE_TIMEOUT_MS,
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.removeSlot(slotId);
        reject(new BerthError('instantiation-failed', `the app did not instantiate within ${LOAD_TIMEOUT_MS} ms`));
      }, LOAD_TIMEOUT_MS);
      slot.ready = {
        resolve: (exports) => {
          clearTimeout(timer);
          resolve({ slot: slotId, exports });
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.worker.postMessage(request, [port2]);
    });
  }

  invoke(slot: number, fn: string, args: unknown[]): Promise<InvokeOutcome> {
    const run = () => this.invokeNow(slot, fn, args);
    const result = this.queue.then(run, run);
    this.queue = result;
    return result;
  }

  private invokeNow(slotId: number, fn: string, args: unknown[]): Promise<InvokeOutcome> {
    const slot = this.slots.get(slotId);
    if (!slot) return Promise.resolve(gone(this.ended?.reason ?? 'stopped', this.ended?.message ?? 'the app is not loaded'));
    const deadlineMs = slot.owner.spec.limits.cpuDeadlineMs;
    return new Promise((resolve) => {
      const id = this.nextCall++;
      const timer = setTimeout(() => this.end('deadline', `${fn} ran past its ${deadlineMs} ms deadline`, slotId), deadlineMs);
      this.current = {
        slot: slotId,
        id,
        resolve: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
      };
      this.worker.postMessage({ type: 'invoke', slot: slotId, id, fn, args } satisfies InvokeRequest);
    });
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
    await this.worker.terminate();
  }

  private removeSlot(slotId: number): void {
    const slot = this.slots.get(slotId);
    if (!slot) return;
    this.slots.delete(slotId);
    slot.closeBridge();
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'idle') return;
    if (m.type === 'result') {
      this.settle(m);
      return;
    }
    const slot = this.slots.get(m.slot);
    if (!slot) return;
    switch (m.type) {
      case 'ready':
        slot.ready?.resolve(m.exports);
        slot.ready = undefined;
        return;
      case 'load-failed':
        this.removeSlot(m.slot);
        slot.ready?.reject(new BerthError(m.code, m.message));
        return;
      case 'log':
        slot.owner.hooks.log(slot.owner.spec.identity, m.record);
        return;
      case 'usage':
        slot.owner.onUsage(m.memoryPages);
        slot.owner.hooks.usage?.(slot.owner.spec.identity, m); // accounting (issue 7, docs/accounting.md)
    }
  }

  /**
   * Settles the call in flight, even if its app was unloaded meanwhile: the thread runs one call
   * at a time, and the next ones wait for this one.
   */
  private settle(m: Extract<FromWorker, { type: 'result' }>): void {
    if (this.current?.id !== m.id) return;
    const call = this.current;
    this.current = undefined;
    call.resolve(m.ok ? { ok: true, value: m.value } : { ok: false, failure: m.failure });
    // A trap leaves that component instance unusable; its neighbours are unaffected.
    const slot = this.slots.get(m.slot);
    if (slot && !m.ok && m.failure.kind === 'trap') {
      void this.unload(m.slot);
      slot.owner.onEnd('trap', m.failure.message);
    }
  }

  /** Ends the thread once: settles the call in flight and tells every slot why. */
  private end(reason: StopReason, message: string, culprit?: number): void {
    if (this.ended) return;
    this.ended = { reason, message, culprit };
    void this.worker.terminate();
    const call = this.current;
    this.current = undefined;
    const slots = [...this.slots.entries()];
    this.slots.clear();
    for (const [id, slot] of slots) {
      slot.closeBridge();
      const own = culprit === undefined || culprit === id;
      const why = own ? { reason, message } : { reason: 'crash' as const, message: `its sandbox thread was ended: ${slots.find(([c]) => c === culprit)?.[1].owner.spec.identity.app ?? 'another app'} ${reason === 'deadline' ? 'ran past its deadline' : 'failed'}` };
      if (call?.slot === id) call.resolve(gone(why.reason, why.message));
      slot.ready?.reject(new BerthError(why.reason === 'out-of-memory' ? 'out-of-memory' : 'crash', why.message));
      slot.owner.onEnd(why.reason, why.message);
    }
  }
}

function gone(reason: StopReason, message: string): InvokeOutcome {
  return { ok: false, failure: { kind: 'sandbox-stopped', reason, message } };
}
