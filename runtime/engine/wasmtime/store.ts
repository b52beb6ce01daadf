import { koffi, type Ptr } from './ffi.js';
import type { HostFunc } from './host-funcs.js';
import { ResourceTable } from './resources.js';
import type { WasmtimeThread } from './thread.js';
import type { WitType } from './types.js';
import { setWaitCheck } from '../../../host-apis/blocking-wait.js';
import { InterruptedError } from '../guest.js';

/** Limits a store is made with (docs/engine.md: how they compare with the jco engine's). */
export interface StoreLimits {
  /** Bytes of one linear memory. */
  memoryBytes: number;
  tableElements: number;
  instances: number;
  tables: number;
  memories: number;
}

/** Why a running call was interrupted by the epoch callback. */
export type Interrupt = { reason: 'deadline' | 'stopped'; message: string };

/**
 * One Wasmtime store: one app instance's guest state, its host objects, its limits, and the
 * deadline of the call it is running. Nothing in it is shared with another store.
 */
export class StoreState {
  readonly store: Ptr;
  readonly ctx: Ptr;
  readonly id: bigint;
  readonly resources: ResourceTable;
  /** A host function threw something other than a guest error: rethrown from the call. */
  hostError: unknown;
  interrupted: Interrupt | undefined;
  /** performance.now() past which the running call is interrupted. */
  deadlineAt = Infinity;
  deadlineMs = 0;
  /** Any of them set from another thread stops the instance at its next epoch tick. */
  stopFlags: Int32Array[] = [];

  constructor(
    private readonly thread: WasmtimeThread,
    readonly host: () => Record<string, Record<string, unknown>>,
    limits: StoreLimits,
    typeOf: (value: object) => number | undefined,
  ) {
    const api = thread.api;
    this.id = thread.addStore(this);
    this.store = api.wasmtime_store_new(thread.engine, this.id, null) as Ptr;
    this.ctx = api.wasmtime_store_context(this.store) as Ptr;
    api.wasmtime_store_limiter(this.store, limits.memoryBytes, limits.tableElements, limits.instances, limits.tables, limits.memories);
    api.wasmtime_store_epoch_deadline_callback(this.store, thread.trampolines.epoch, this.id, null);
    api.wasmtime_context_set_epoch_deadline(this.ctx, 1);
    this.resources = new ResourceTable(api, typeOf);
    this.resources.ctx = this.ctx;
  }

  close(): void {
    this.resources.close();
    this.thread.api.wasmtime_store_delete(this.store);
    this.thread.removeStore(this.id);
  }

  hostCall(fn: HostFunc, args: Ptr, nargs: number, results: Ptr, nresults: number): Ptr {
    const { codec } = this.thread;
    try {
      const values = codec.liftParams(args, fn.type.params, nargs, this.resources);
      const iface = this.host()[fn.iface];
      if (!iface) throw new Error(`${fn.iface} is not linked for this app`);
      const result = fn.type.result;
      let value: unknown;
      try {
        value = fn.call(iface, values);
      } catch (err) {
        // jco's convention: a host function reports the err side of its result by throwing an
        // error with a `payload`; anything else it throws traps the guest.
        if (result?.kind === 'result' && err && typeof err === 'object' && 'payload' in err) {
          if (nresults > 0) codec.lower(results, result, { tag: 'err', val: (err as { payload: unknown }).payload }, this.resources, `${fn.name} error`);
          return 0n;
        }
        throw err;
      }
      if (result && nresults > 0) codec.lower(results, result, topLevel(result, value), this.resources, `${fn.name} result`);
      return 0n;
    } catch (err) {
      this.hostError = err;
      return this.thread.newError(`host function ${fn.iface}#${fn.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  resourceDrop(rep: number): Ptr {
    this.resources.drop(rep);
    return 0n;
  }

  /** Why the running call must end now, if it must: the app was stopped, or its deadline passed. */
  private interruption(): Interrupt | undefined {
    if (this.stopFlags.some((flag) => Atomics.load(flag, 0) !== 0)) return { reason: 'stopped', message: 'the app was stopped while it ran' };
    if (performance.now() > this.deadlineAt) return { reason: 'deadline', message: `ran past its ${this.deadlineMs} ms deadline` };
    return undefined;
  }

  /**
   * Runs `enter` (an instantiation or a call into the guest) under a deadline: the epoch callback
   * interrupts guest code past it, and a host function blocked in a wait asks between slices
   * (host-apis/blocking-wait.ts) and ends the call with an InterruptedError.
   */
  guarded<T>(deadlineMs: number, enter: () => T): T {
    this.interrupted = undefined;
    this.deadlineMs = deadlineMs;
    this.deadlineAt = performance.now() + deadlineMs;
    setWaitCheck(() => {
      const interrupt = this.interruption();
      if (!interrupt) return;
      this.interrupted = interrupt;
      throw new InterruptedError(interrupt.reason, interrupt.message);
    });
    const outer = this.thread.active;
    this.thread.active = this;
    try {
      return enter();
    } finally {
      this.thread.active = outer;
      setWaitCheck(undefined);
      this.deadlineAt = Infinity;
    }
  }

  /** Runs on every epoch tick while the guest runs: interrupts it past its deadline or when stopped. */
  epoch(delta: Ptr, kind: Ptr): Ptr {
    const interrupt = this.interruption();
    if (interrupt) {
      this.interrupted = interrupt;
      return this.thread.newError(`berth: interrupted (${interrupt.reason})`);
    }
    koffi.encode(delta, 'uint64_t', 1n);
    koffi.encode(kind, 'uint8_t', 0); // WASMTIME_UPDATE_DEADLINE_CONTINUE
    return 0n;
  }
}

/** A function whose WIT result is a `result`: the host returned its ok value. */
function topLevel(type: WitType, value: unknown): unknown {
  return type.kind === 'result' ? { tag: 'ok', val: value } : value;
}
