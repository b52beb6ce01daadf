import { koffi, wasmtimeApi, type Ptr, type WasmtimeApi } from './ffi.js';
import { trampolines, type Trampolines } from './callbacks.js';
import type { HostFunc } from './host-funcs.js';
import { takeError, alloc } from './native.js';
import { trapText } from './trap-text.js';
import { ValueCodec } from './values.js';
import type { StoreState } from './store.js';

/**
 * Everything one thread holds of Wasmtime: the library, the process's engine (shared by address
 * across threads: Wasmtime's engine is thread-safe), the callback trampolines, and the registries
 * the trampolines dispatch through.
 */
export class WasmtimeThread {
  readonly codec: ValueCodec;
  readonly trampolines: Trampolines;
  private readonly stores = new Map<bigint, StoreState>();
  private nextStore = 1n;
  readonly hostFuncs: HostFunc[] = [];
  private readonly resourceTypes = new Map<string, number>();
  private readonly scratch = alloc(16);

  private constructor(
    readonly api: WasmtimeApi,
    readonly engine: Ptr,
  ) {
    this.codec = new ValueCodec(api);
    this.trampolines = trampolines({
      hostFunc: (env, ctx, args, nargs, results, nresults) => this.store(ctx).hostCall(this.hostFuncs[Number(env)]!, args, nargs, results, nresults),
      resourceDrop: (_env, ctx, rep) => this.store(ctx).resourceDrop(rep),
      epoch: (ctx, _env, delta, kind) => this.store(ctx).epoch(delta, kind),
    });
  }

  private static current: WasmtimeThread | undefined;

  static open(libraryPath: string, engine: Ptr): WasmtimeThread {
    if (this.current) {
      if (this.current.engine !== engine) throw new Error('this thread already uses another Wasmtime engine');
      return this.current;
    }
    this.current = new WasmtimeThread(wasmtimeApi(libraryPath), engine);
    return this.current;
  }

  /** A host resource's type id, the same for every linker in the process (`iface#resource`). */
  resourceType(iface: string, resource: string): number {
    const key = `${iface}#${resource}`;
    let id = this.resourceTypes.get(key);
    if (id === undefined) this.resourceTypes.set(key, (id = this.resourceTypes.size + 1));
    return id;
  }

  resourceTypeKeys(): ReadonlyMap<string, number> {
    return this.resourceTypes;
  }

  addStore(state: StoreState): bigint {
    const id = this.nextStore++;
    this.stores.set(id, state);
    return id;
  }

  removeStore(id: bigint): void {
    this.stores.delete(id);
  }

  /** The store whose guest this thread is running now (StoreState.guarded): its callbacks need no lookup. */
  active: StoreState | undefined;

  private store(ctx: Ptr): StoreState {
    if (this.active?.ctx === ctx) return this.active;
    const id = (this.api.wasmtime_context_get_data(ctx) as Ptr | null) ?? 0n;
    const state = this.stores.get(id);
    if (!state) throw new Error(`Wasmtime called back for an unknown store ${id}`);
    return state;
  }

  /** Turns a returned wasmtime_error_t into a thrown Error (null means success). */
  check(error: unknown, what: string): void {
    if (error) throw new Error(`${what}: ${takeError(this.api, error as Ptr, this.scratch)}`);
  }

  /** A trap or instantiation error as one line: its root cause and the frame it happened in. */
  errorMessage(error: Ptr): string {
    return trapText(takeError(this.api, error, this.scratch));
  }

  newError(message: string): Ptr {
    return this.api.wasmtime_error_new(message) as Ptr;
  }
}

export { koffi };
