import { camelCase } from '../guest.js';
import type { Ptr, WasmtimeApi } from './ffi.js';
import { alloc, free, ptr, textOut, u8, VALTYPE_SIZE } from './native.js';

/**
 * A component-model value type, read once from Wasmtime's type reflection and kept as plain
 * data: lifting and lowering values (values.ts) walk this tree, never the C API.
 */
export type WitType =
  | { kind: Scalar }
  | { kind: 'list'; element: WitType }
  | { kind: 'record'; fields: { name: string; key: string; type: WitType }[] }
  | { kind: 'tuple'; types: WitType[] }
  | { kind: 'variant'; cases: { name: string; type?: WitType }[] }
  | { kind: 'enum'; names: string[] }
  | { kind: 'flags'; names: { name: string; key: string }[] }
  | { kind: 'option'; type: WitType }
  | { kind: 'result'; ok?: WitType; err?: WitType }
  | { kind: 'own' | 'borrow' }
  | { kind: 'unsupported'; what: string };

export type Scalar = 'bool' | 's8' | 's16' | 's32' | 's64' | 'u8' | 'u16' | 'u32' | 'u64' | 'f32' | 'f64' | 'char' | 'string';

/** WASMTIME_COMPONENT_VALTYPE_* in the order of the C header. */
const VALTYPE_KINDS = [
  'bool',
  's8',
  's16',
  's32',
  's64',
  'u8',
  'u16',
  'u32',
  'u64',
  'f32',
  'f64',
  'char',
  'string',
  'list',
  'record',
  'tuple',
  'variant',
  'enum',
  'option',
  'result',
  'flags',
  'own',
  'borrow',
  'future',
  'stream',
  'error-context',
] as const;

export interface FuncType {
  params: { name: string; type: WitType }[];
  result?: WitType;
}

export { camelCase };

/** jco's class names: `input-stream` is `InputStream`. */
export function pascalCase(name: string): string {
  const camel = camelCase(name);
  return camel.charAt(0).toUpperCase() + camel.slice(1);
}

/** Reads types through a few out-slots of its own; one reader per thread. */
export class TypeReader {
  private readonly slots: Ptr;

  constructor(private readonly api: WasmtimeApi) {
    this.slots = alloc(64);
  }

  close(): void {
    free(this.slots);
  }

  funcType(ty: Ptr): FuncType {
    const count = Number(this.api.wasmtime_component_func_type_param_count(ty));
    const params: FuncType['params'] = [];
    for (let i = 0; i < count; i++) {
      const [name, type] = this.named((n, l, t) => this.api.wasmtime_component_func_type_param_nth(ty, i, n, l, t));
      params.push({ name, type });
    }
    const result = this.optional((t) => this.api.wasmtime_component_func_type_result(ty, t));
    return result ? { params, result } : { params };
  }

  /** Reads the valtype a call writes into a fresh slot, and frees the slot's contents. */
  private valtype(write: (slot: Ptr) => unknown): WitType {
    const slot = alloc(VALTYPE_SIZE);
    try {
      write(slot);
      return this.read(slot);
    } finally {
      this.api.wasmtime_component_valtype_delete(slot);
      free(slot);
    }
  }

  private optional(write: (slot: Ptr) => unknown): WitType | undefined {
    const slot = alloc(VALTYPE_SIZE);
    try {
      if (!write(slot)) return undefined;
      const type = this.read(slot);
      this.api.wasmtime_component_valtype_delete(slot);
      return type;
    } finally {
      free(slot);
    }
  }

  private named(write: (name: Ptr, len: Ptr, slot: Ptr) => unknown): [string, WitType] {
    let name = '';
    const type = this.valtype((slot) => {
      write(this.slots, this.slots + 8n, slot);
      name = textOut(this.slots, this.slots + 8n);
    });
    return [name, type];
  }

  private names(count: number, nth: (i: number, name: Ptr, len: Ptr) => unknown): string[] {
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      nth(i, this.slots, this.slots + 8n);
      names.push(textOut(this.slots, this.slots + 8n));
    }
    return names;
  }

  private read(slot: Ptr): WitType {
    const kind = VALTYPE_KINDS[u8(slot)];
    const of = ptr(slot + 8n);
    const a = this.api;
    switch (kind) {
      case 'list':
        return { kind, element: this.valtype((t) => a.wasmtime_component_list_type_element(of, t)) };
      case 'record': {
        const count = Number(a.wasmtime_component_record_type_field_count(of));
        const fields = [];
        for (let i = 0; i < count; i++) {
          const [name, type] = this.named((n, l, t) => a.wasmtime_component_record_type_field_nth(of, i, n, l, t));
          fields.push({ name, key: camelCase(name), type });
        }
        return { kind, fields };
      }
      case 'tuple': {
        const count = Number(a.wasmtime_component_tuple_type_types_count(of));
        return { kind, types: Array.from({ length: count }, (_, i) => this.valtype((t) => a.wasmtime_component_tuple_type_types_nth(of, i, t))) };
      }
      case 'variant': {
        const count = Number(a.wasmtime_component_variant_type_case_count(of));
        const cases = [];
        for (let i = 0; i < count; i++) {
          const hasPayload = this.slots + 16n;
          let name = '';
          const type = this.optional((t) => {
            a.wasmtime_component_variant_type_case_nth(of, i, this.slots, this.slots + 8n, hasPayload, t);
            name = textOut(this.slots, this.slots + 8n);
            return u8(hasPayload) !== 0;
          });
          cases.push(type ? { name, type } : { name });
        }
        return { kind, cases };
      }
      case 'enum':
        return {
          kind,
          names: this.names(Number(a.wasmtime_component_enum_type_names_count(of)), (i, n, l) => a.wasmtime_component_enum_type_names_nth(of, i, n, l)),
        };
      case 'flags': {
        const names = this.names(Number(a.wasmtime_component_flags_type_names_count(of)), (i, n, l) => a.wasmtime_component_flags_type_names_nth(of, i, n, l));
        return { kind, names: names.map((name) => ({ name, key: camelCase(name) })) };
      }
      case 'option':
        return { kind, type: this.valtype((t) => a.wasmtime_component_option_type_ty(of, t)) };
      case 'result': {
        const ok = this.optional((t) => a.wasmtime_component_result_type_ok(of, t));
        const err = this.optional((t) => a.wasmtime_component_result_type_err(of, t));
        return { kind, ...(ok ? { ok } : {}), ...(err ? { err } : {}) };
      }
      case 'own':
      case 'borrow':
        return { kind };
      case undefined:
      case 'future':
      case 'stream':
      case 'error-context':
        return { kind: 'unsupported', what: kind ?? `type kind ${u8(slot)}` };
      default:
        return { kind };
    }
  }
}
