import type { Ptr, WasmtimeApi } from './ffi.js';
import type { ExportedFunc } from './component-plan.js';
import type { LoadedComponent } from './component.js';
import { alloc, cstr, free, VAL_SIZE } from './native.js';
import type { Interrupt, StoreState } from './store.js';
import type { WasmtimeThread } from './thread.js';
import { camelCase, type WitType } from './types.js';
import { isScalar, readScalar, writeScalar } from './scalars.js';

/**
 * Drops a slot's value and leaves a bool in it. Wasmtime assigns results over what a slot holds,
 * dropping it first, and val_delete drops in place without clearing: a slot reused after a
 * string would have that string freed twice (measured: a double free in the next call).
 */
function emptySlot(api: WasmtimeApi, slot: Ptr, view: DataView, at: number): void {
  api.wasmtime_component_val_delete(slot);
  view.setUint8(at, 0);
  view.setBigUint64(at + 8, 0n, true);
}

interface CallSlots {
  capacity: number;
  args: Ptr;
  result: Ptr;
  view: DataView;
  resultView: DataView;
}

/** wasmtime_component_func_t: {{u64 store_id, u32} (16 with padding), u32, void *}. */
const FUNC_SIZE = 32;

/** The guest's own `err`, thrown as jco throws it from an export: an error with a `payload`. */
export class GuestError extends Error {
  constructor(readonly payload: unknown) {
    super(typeof payload === 'string' ? payload : 'the app returned an error');
  }
}

/** The guest trapped, or was interrupted (`interrupt` says why). */
export class GuestTrap extends Error {
  constructor(
    message: string,
    readonly interrupt?: { reason: 'deadline' | 'stopped'; message: string },
  ) {
    super(message);
  }
}

/** One instantiated component in its own store. */
export class WasmtimeInstance {
  private readonly funcs = new Map<string, Buffer>();
  private poisoned: string | undefined;
  private slots: CallSlots | undefined;

  constructor(
    private readonly thread: WasmtimeThread,
    private readonly loaded: LoadedComponent,
    readonly store: StoreState,
    private readonly instance: Buffer,
  ) {}

  /** Export names as the jco engine reports them: `add`, `berth:host/entry@0.1.0#run`. */
  exportNames(): string[] {
    return this.loaded.plan.exports.map((e) => (e.iface ? `${e.iface}#${camelCase(e.name)}` : camelCase(e.name)));
  }

  /** `add`, `interface#function` (version optional), or `run` for the app's entry point. */
  resolve(fn: string): ExportedFunc | undefined {
    const exports = this.loaded.plan.exports;
    const top = exports.find((e) => !e.iface && (e.name === fn || camelCase(e.name) === fn));
    if (top) return top;
    if (fn === 'run') return this.resolve('berth:host/entry#run') ?? this.resolve('wasi:cli/run#run');
    const hash = fn.indexOf('#');
    if (hash === -1) return undefined;
    const iface = fn.slice(0, hash);
    const name = fn.slice(hash + 1);
    return exports.find((e) => e.iface && (e.iface === iface || e.iface.split('@')[0] === iface) && (e.name === name || camelCase(e.name) === name));
  }

  /**
   * Calls an export with plain values. Returns its value; throws GuestError for the guest's own
   * `err`, GuestTrap for a trap or an interrupt, and rethrows what a host function threw.
   */
  call(target: ExportedFunc, args: unknown[], deadlineMs: number): unknown {
    if (this.poisoned) throw new GuestTrap(`the instance can no longer be called: ${this.poisoned}`);
    const { api, codec } = this.thread;
    const { params, result } = target.type;
    const func = this.func(target);
    const slots = this.slotsFor(params.length);
    const owning: number[] = [];
    try {
      params.forEach((param, i) => {
        if (isScalar(param.type)) return writeScalar(slots.view, i * VAL_SIZE, param.type, args[i], param.name);
        codec.lower(slots.args + BigInt(i * VAL_SIZE), param.type, args[i], this.store.resources, param.name);
        owning.push(i);
      });
      this.store.hostError = undefined;
      api.wasmtime_context_set_epoch_deadline(this.store.ctx, 1);
      const error = this.store.guarded(
        deadlineMs,
        () => api.wasmtime_component_func_call(func, this.store.ctx, slots.args, params.length, slots.result, result ? 1 : 0) as Ptr,
      );
      if (error) {
        const message = this.thread.errorMessage(error);
        this.poisoned = message;
        if (this.store.hostError !== undefined) throw this.store.hostError;
        // Set by the epoch callback during the call (TypeScript cannot see that).
        const interrupt = this.store.interrupted as Interrupt | undefined;
        throw new GuestTrap(interrupt ? interrupt.message : message, interrupt);
      }
      // Wasmtime 49 runs the export's post-return itself, within the call: calling it again
      // cost more than the call and did nothing (measured; docs/engine.md).
      const value = result ? this.liftResult(slots, result) : undefined;
      if (result?.kind === 'result') {
        const r = value as { tag: 'ok' | 'err'; val: unknown };
        if (r.tag === 'err') throw new GuestError(r.val);
        return r.val;
      }
      return value;
    } finally {
      this.store.resources.endCall();
      for (const i of owning) emptySlot(api, slots.args + BigInt(i * VAL_SIZE), slots.view, i * VAL_SIZE);
    }
  }

  private liftResult(slots: CallSlots, result: WitType): unknown {
    if (isScalar(result)) return readScalar(slots.resultView, 0, result);
    try {
      return this.thread.codec.lift(slots.result, result, this.store.resources);
    } finally {
      emptySlot(this.thread.api, slots.result, slots.resultView, 0);
    }
  }

  /**
   * The instance's argument and result slots, kept from call to call (a call never re-enters its
   * instance), with DataViews over them made once (koffi.view keeps a little memory per view).
   */
  private slotsFor(params: number): CallSlots {
    if (!this.slots || this.slots.capacity < params) {
      if (this.slots) free(this.slots.args);
      const capacity = Math.max(4, params);
      const bytes = (capacity + 1) * VAL_SIZE;
      const args = alloc(bytes);
      const result = args + BigInt(capacity * VAL_SIZE);
      const buffer = koffi.view(args, bytes);
      this.slots = {
        capacity,
        args,
        result,
        view: new DataView(buffer, 0, capacity * VAL_SIZE),
        resultView: new DataView(buffer, capacity * VAL_SIZE, VAL_SIZE),
      };
    }
    return this.slots;
  }

  private func(target: ExportedFunc): Buffer {
    const key = `${target.iface ?? ''}#${target.name}`;
    let func = this.funcs.get(key);
    if (func) return func;
    const { api } = this.thread;
    const lookup = (parent: Ptr | null, name: string): Ptr => {
      const bytes = cstr(name);
      const index = api.wasmtime_component_instance_get_export_index(this.instance, this.store.ctx, parent, bytes, bytes.length) as Ptr;
      if (!index) throw new Error(`the instance has no export ${name}`);
      return index;
    };
    const parent = target.iface ? lookup(null, target.iface) : null;
    const index = lookup(parent, target.name);
    const out = alloc(FUNC_SIZE);
    try {
      if (!api.wasmtime_component_instance_get_func(this.instance, this.store.ctx, index, out)) throw new Error(`export ${target.name} is not a function`);
      func = Buffer.from(koffiCopy(out, FUNC_SIZE));
    } finally {
      free(out);
      api.wasmtime_component_export_index_delete(index);
      if (parent) api.wasmtime_component_export_index_delete(parent);
    }
    this.funcs.set(key, func);
    return func;
  }

  close(): void {
    if (this.slots) free(this.slots.args);
    this.slots = undefined;
    this.store.close();
  }
}

import { koffi } from './ffi.js';
function koffiCopy(p: Ptr, n: number): Uint8Array {
  return koffi.decode(p, 'uint8_t', n) as Uint8Array;
}
