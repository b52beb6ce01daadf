import type { Ptr } from './ffi.js';
import { componentPlan, releasePlan, type ComponentPlan, type ImportedResource } from './component-plan.js';
import { hostFunc, unversioned } from './host-funcs.js';
import { alloc, cstr, free, ptr } from './native.js';
import { pascalCase } from './types.js';
import type { WasmtimeThread } from './thread.js';
import { StoreState, type Interrupt, type StoreLimits } from './store.js';
import { GuestTrap, WasmtimeInstance } from './instance.js';

export type HostImports = Record<string, Record<string, unknown>>;

/**
 * A compiled component loaded into this thread (mmap of its precompiled artifact), with the
 * linker made for its imports. The linker holds no authority: each import reaches the host
 * object of the calling store, built from that app's grants (host-apis/linker.ts).
 */
export class LoadedComponent {
  readonly plan: ComponentPlan;
  private readonly linker: Ptr;
  /** Host resources this component imports: their class name in the host object, and type id. */
  private readonly resources: { iface: string; cls: string; type: number }[] = [];

  constructor(
    private readonly thread: WasmtimeThread,
    readonly component: Ptr,
  ) {
    this.plan = componentPlan(thread.api, thread.engine, component);
    if (this.plan.bareImports.length) throw new Error(`the component imports functions outside any interface: ${this.plan.bareImports.join(', ')}`);
    this.linker = this.buildLinker();
  }

  private buildLinker(): Ptr {
    const { api, trampolines } = this.thread;
    const linker = api.wasmtime_component_linker_new(this.thread.engine) as Ptr;
    const root = api.wasmtime_component_linker_root(linker) as Ptr;
    const out = alloc(8);
    const owners: { type: Ptr; host: number }[] = [];
    try {
      for (const iface of this.plan.imports) {
        const name = cstr(iface.name);
        this.thread.check(api.wasmtime_component_linker_instance_add_instance(root, name, name.length, out), `linking ${iface.name}`);
        const instance = ptr(out);
        try {
          for (const resource of iface.resources) {
            const type = this.hostTypeOf(iface.name, resource, owners);
            const rtype = api.wasmtime_component_resource_type_new_host(type) as Ptr;
            const rname = cstr(resource.name);
            try {
              this.thread.check(
                api.wasmtime_component_linker_instance_add_resource(instance, rname, rname.length, rtype, trampolines.resourceDrop, BigInt(type), null),
                `linking ${iface.name}/${resource.name}`,
              );
            } finally {
              api.wasmtime_component_resource_type_delete(rtype);
            }
          }
          for (const f of iface.funcs) {
            const env = this.thread.hostFuncs.push(hostFunc(iface.name, f.name, f.type)) - 1;
            const fname = cstr(f.name);
            this.thread.check(
              api.wasmtime_component_linker_instance_add_func(instance, fname, fname.length, trampolines.hostFunc, BigInt(env), null),
              `linking ${iface.name}#${f.name}`,
            );
          }
        } finally {
          api.wasmtime_component_linker_instance_delete(instance);
        }
      }
    } catch (err) {
      api.wasmtime_component_linker_delete(linker);
      throw err;
    } finally {
      api.wasmtime_component_linker_instance_delete(root);
      free(out);
      releasePlan(api, this.plan);
    }
    return linker;
  }

  /**
   * A resource one interface defines and others use (`pollable`, used by clocks and streams) is
   * one type: it gets the host type of the interface that brought it first, whose class the host
   * objects are instances of.
   */
  private hostTypeOf(iface: string, resource: ImportedResource, owners: { type: Ptr; host: number }[]): number {
    const { api } = this.thread;
    const seen = owners.find((o) => api.wasmtime_component_resource_type_equal(o.type, resource.type));
    if (seen) return seen.host;
    const host = this.thread.resourceType(unversioned(iface), resource.name);
    owners.push({ type: resource.type, host });
    this.resources.push({ iface: unversioned(iface), cls: pascalCase(resource.name), type: host });
    return host;
  }

  instantiate(host: HostImports, limits: StoreLimits, stopFlags: Int32Array[] = [], deadlineMs = Infinity): WasmtimeInstance {
    const classes = new Map<unknown, number>();
    for (const r of this.resources) {
      const cls = host[r.iface]?.[r.cls];
      if (typeof cls === 'function') classes.set(cls, r.type);
    }
    const typeOf = (value: object): number | undefined => {
      for (let proto = Object.getPrototypeOf(value); proto; proto = Object.getPrototypeOf(proto)) {
        const type = classes.get(proto.constructor);
        if (type !== undefined) return type;
      }
      return undefined;
    };
    const store = new StoreState(this.thread, () => host, limits, typeOf);
    store.stopFlags = stopFlags;
    const out = alloc(16);
    try {
      const error = store.guarded(deadlineMs, () => this.thread.api.wasmtime_component_linker_instantiate(this.linker, store.ctx, this.component, out) as Ptr);
      if (error) {
        const message = this.thread.errorMessage(error);
        // Set by the epoch callback during the start (TypeScript cannot see that).
        const interrupt = store.interrupted as Interrupt | undefined;
        if (interrupt) throw new GuestTrap(interrupt.message, interrupt);
        if (store.hostError !== undefined) throw store.hostError;
        throw new Error(`instantiation failed: ${message}`);
      }
      const instance = Buffer.from(koffiBytes(out, 16));
      return new WasmtimeInstance(this.thread, this, store, instance);
    } catch (err) {
      store.close();
      throw err;
    } finally {
      free(out);
    }
  }

  close(): void {
    this.thread.api.wasmtime_component_linker_delete(this.linker);
    this.thread.api.wasmtime_component_delete(this.component);
  }
}

import { koffi } from './ffi.js';
function koffiBytes(p: Ptr, n: number): Uint8Array {
  return koffi.decode(p, 'uint8_t', n) as Uint8Array;
}
