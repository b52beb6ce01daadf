import type { Ptr, WasmtimeApi } from './ffi.js';
import { alloc, free, ptr, takeError } from './native.js';
import { ValueError, type ResourceBridge } from './values.js';
import { MAX_HANDLES, TOO_MANY_HANDLES } from '../value-limits.js';

/**
 * A store's host resources: the guest holds a handle whose rep indexes this table, and the
 * table holds the host object (a stream, a descriptor). Wasmtime runs no destructor for live
 * handles when a store is deleted, so the table is swept by `close`. The objects live on the
 * thread's heap, which the store's neighbours share: an instance may hold at most MAX_HANDLES
 * of one type, as jco's glue allows, and one more traps it.
 */
export class ResourceTable implements ResourceBridge {
  /** Each live rep's host object and its host type. */
  private readonly objects = new Map<number, { value: object; type: number }>();
  /** How many live reps each host type has. */
  private readonly liveOfType = new Map<number, number>();
  /** Handles lent to the guest for one call, by rep (see `lower`). */
  private readonly lent = new Map<number, Ptr>();
  private nextRep = 1;
  private readonly out: Ptr = alloc(16);
  ctx: Ptr = 0n;

  constructor(
    private readonly api: WasmtimeApi,
    /** The host type id of an object's class (its resource), or undefined. */
    private readonly typeOf: (value: object) => number | undefined,
  ) {}

  /**
   * A host object handed to the guest. Wasmtime makes borrows only inside a call, so a borrow
   * the host lends to an export is an owned handle that the host takes back after the call
   * (`endCall`), without disposing of the object it still owns.
   */
  lower(value: unknown, owned: boolean): Ptr {
    const type = value && typeof value === 'object' ? this.typeOf(value) : undefined;
    if (type === undefined) throw new ValueError(`expected a host resource object, got ${value === null ? 'null' : typeof value}`);
    const live = this.liveOfType.get(type) ?? 0;
    if (live >= MAX_HANDLES) throw new ValueError(TOO_MANY_HANDLES);
    const rep = this.nextRep++;
    this.objects.set(rep, { value: value as object, type });
    this.liveOfType.set(type, live + 1);
    const host = this.api.wasmtime_component_resource_host_new(true, rep, type) as Ptr;
    try {
      const error = this.api.wasmtime_component_resource_host_to_any(this.ctx, host, this.out) as Ptr;
      if (error) throw new ValueError(`a resource could not be handed to the guest: ${takeError(this.api, error, this.out)}`);
      const any = ptr(this.out);
      if (!owned) this.lent.set(rep, any);
      return any;
    } finally {
      this.api.wasmtime_component_resource_host_delete(host);
    }
  }

  /** Takes back the handles lent for the call that ended; the objects stay the host's. */
  endCall(): void {
    for (const [rep, any] of this.lent) {
      const error = this.api.wasmtime_component_resource_any_drop(this.ctx, any) as Ptr;
      if (error) takeError(this.api, error, this.out);
      this.forget(rep);
    }
    this.lent.clear();
  }

  lift(any: Ptr, owned: boolean): unknown {
    const error = this.api.wasmtime_component_resource_any_to_host(this.ctx, any, this.out) as Ptr;
    if (error) throw new ValueError(`the guest passed a resource the host did not create: ${takeError(this.api, error, this.out)}`);
    const host = ptr(this.out);
    const rep = this.api.wasmtime_component_resource_host_rep(host) as number;
    this.api.wasmtime_component_resource_host_delete(host);
    const value = this.objects.get(rep)?.value;
    if (value === undefined) throw new ValueError(`the guest passed an unknown resource handle (${rep})`);
    // An owned handle moves to the host: the guest can no longer drop it, so it leaves the table.
    if (owned) this.forget(rep);
    return value;
  }

  /** The guest dropped its handle: the host object is disposed of (unless it was only lent). */
  drop(rep: number): void {
    if (this.lent.has(rep)) return;
    const value = this.objects.get(rep)?.value;
    this.forget(rep);
    dispose(value);
  }

  private forget(rep: number): void {
    const live = this.objects.get(rep);
    if (!live) return;
    this.objects.delete(rep);
    this.liveOfType.set(live.type, this.liveOfType.get(live.type)! - 1);
  }

  close(): void {
    for (const { value } of this.objects.values()) dispose(value);
    this.objects.clear();
    this.liveOfType.clear();
    free(this.out);
  }
}

function dispose(value: unknown): void {
  const fn = value && (value as { [Symbol.dispose]?: () => void })[Symbol.dispose];
  if (typeof fn === 'function') {
    try {
      fn.call(value);
    } catch {
      // A host object failing to clean up must not fail the guest's drop.
    }
  }
}
