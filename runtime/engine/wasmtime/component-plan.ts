import type { Ptr, WasmtimeApi } from './ffi.js';
import { alloc, free, ptr, textOut, u8 } from './native.js';
import { TypeReader, type FuncType } from './types.js';

/** WASMTIME_COMPONENT_ITEM_* kinds used here. */
const ITEM_INSTANCE = 1;
const ITEM_FUNC = 3;
const ITEM_RESOURCE = 4;
/** wasmtime_component_item_t: a kind byte, then a union of at most 16 bytes (a valtype). */
const ITEM_SIZE = 24;

export interface ImportedResource {
  name: string;
  /** Its resource_type_t (a clone, freed by `releasePlan`): the same type may be exported by several interfaces. */
  type: Ptr;
}

export interface ImportedInterface {
  /** As the component names it, with its version (`wasi:io/streams@0.2.3`). */
  name: string;
  resources: ImportedResource[];
  funcs: { name: string; type: FuncType }[];
}

export interface ExportedFunc {
  /** The instance export it lives in, or none for a top-level function. */
  iface?: string;
  name: string;
  type: FuncType;
}

/**
 * What a component imports and exports, read once per component from Wasmtime's reflection:
 * the linker is built from the imports, and calls lift and lower by the export types.
 */
export interface ComponentPlan {
  imports: ImportedInterface[];
  /** Top-level functions the component imports (not inside an interface): refused by Berth. */
  bareImports: string[];
  exports: ExportedFunc[];
}

export function componentPlan(api: WasmtimeApi, engine: Ptr, component: Ptr): ComponentPlan {
  const reader = new TypeReader(api);
  const slots = alloc(32);
  const ty = api.wasmtime_component_type(component) as Ptr;
  try {
    // Nested: visiting an instance reads its members through `slots` again, so each level reads
    // its name and extern out of `slots` first and has an item slot of its own.
    const each = (count: number, nth: (i: number) => unknown, visit: (name: string, kind: number, of: Ptr) => void) => {
      const item = alloc(ITEM_SIZE);
      for (let i = 0; i < count; i++) {
        nth(i);
        const name = textOut(slots, slots + 8n);
        const ext = ptr(slots + 16n);
        api.wasmtime_component_extern_type(ext, item);
        try {
          visit(name, u8(item), ptr(item + 8n));
        } finally {
          api.wasmtime_component_item_delete(item);
          api.wasmtime_component_extern_delete(ext);
        }
      }
      free(item);
    };
    const members = (instance: Ptr) => {
      const funcs: { name: string; type: FuncType }[] = [];
      const resources: ImportedResource[] = [];
      each(
        Number(api.wasmtime_component_instance_type_export_count(instance, engine)),
        (i) => api.wasmtime_component_instance_type_export_nth(instance, engine, i, slots, slots + 8n, slots + 16n),
        (name, kind, of) => {
          if (kind === ITEM_FUNC) funcs.push({ name, type: reader.funcType(of) });
          else if (kind === ITEM_RESOURCE) resources.push({ name, type: api.wasmtime_component_resource_type_clone(of) as Ptr });
        },
      );
      return { funcs, resources };
    };
    const plan: ComponentPlan = { imports: [], bareImports: [], exports: [] };
    each(
      Number(api.wasmtime_component_type_import_count(ty, engine)),
      (i) => api.wasmtime_component_type_import_nth(ty, engine, i, slots, slots + 8n, slots + 16n),
      (name, kind, of) => {
        if (kind === ITEM_INSTANCE) plan.imports.push({ name, ...members(of) });
        else plan.bareImports.push(name);
      },
    );
    each(
      Number(api.wasmtime_component_type_export_count(ty, engine)),
      (i) => api.wasmtime_component_type_export_nth(ty, engine, i, slots, slots + 8n, slots + 16n),
      (name, kind, of) => {
        if (kind === ITEM_FUNC) plan.exports.push({ name, type: reader.funcType(of) });
        else if (kind === ITEM_INSTANCE) {
          const { funcs, resources } = members(of);
          for (const f of funcs) plan.exports.push({ iface: name, ...f });
          for (const r of resources) api.wasmtime_component_resource_type_delete(r.type);
        }
      },
    );
    return plan;
  } finally {
    api.wasmtime_component_type_delete(ty);
    free(slots);
    reader.close();
  }
}

/** Frees the resource types a plan holds (once its linker is built). */
export function releasePlan(api: WasmtimeApi, plan: ComponentPlan): void {
  for (const iface of plan.imports) for (const r of iface.resources) api.wasmtime_component_resource_type_delete(r.type);
}
