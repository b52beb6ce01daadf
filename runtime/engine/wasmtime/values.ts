import { koffi, type Ptr, type WasmtimeApi } from './ffi.js';
import { bytesAt, ENTRY_SIZE, NAME_SIZE, nameAt, PAYLOAD, ptr, size, textOfSize, u8, VAL_SIZE, writeBytes, writePtr, writeText, writeU8 } from './native.js';
import type { WitType } from './types.js';
import { bigIn, intIn } from './scalars.js';
import { getHeapStatistics } from 'node:v8';
import { LIFT_HEAP_SHARE, liftTooLarge, listTooLong, MAX_LIST_ELEMENTS } from '../value-limits.js';

/**
 * Component values between Wasmtime (wasmtime_component_val_t) and the JavaScript shape every
 * Berth host API is written in: the component model's JS binding convention as jco defines it
 * (docs/engine.md). u64/s64 are BigInt, records have camelCase keys, variants are {tag, val},
 * enums strings, flags objects of booleans, option<T> is T or undefined (an option of an option
 * is {tag: 'some' | 'none'} outside, the inner one plain), list<u8> and other numeric lists are typed arrays, and
 * resources are host objects. A `result` at the top of a call is return-or-throw (see call.ts);
 * anywhere else it is {tag: 'ok' | 'err', val}.
 */

/** WASMTIME_COMPONENT_* value kinds, in the C header's order (not the valtype order). */
const K = {
  bool: 0,
  s8: 1,
  u8: 2,
  s16: 3,
  u16: 4,
  s32: 5,
  u32: 6,
  s64: 7,
  u64: 8,
  f32: 9,
  f64: 10,
  char: 11,
  string: 12,
  list: 13,
  record: 14,
  tuple: 15,
  variant: 16,
  enum: 17,
  option: 18,
  result: 19,
  flags: 20,
  resource: 21,
} as const;

/** What a value needs of the store it crosses into or out of: its resource handles. */
export interface ResourceBridge {
  /** The guest handed a handle over (resource_any_t *): the host object it stands for. */
  lift(any: Ptr, owned: boolean): unknown;
  /** A host object handed to the guest: a new resource_any_t * owned by the value. */
  lower(value: unknown, owned: boolean): Ptr;
}

export class ValueError extends Error {}

const TYPED: Partial<Record<string, { array: new (n: number) => ArrayLike<number | bigint> & { [i: number]: number | bigint } }>> = {
  u8: { array: Uint8Array },
  s8: { array: Int8Array },
  u16: { array: Uint16Array },
  s16: { array: Int16Array },
  u32: { array: Uint32Array },
  s32: { array: Int32Array },
  u64: { array: BigUint64Array },
  s64: { array: BigInt64Array },
  f32: { array: Float32Array },
  f64: { array: Float64Array },
};

export class ValueCodec {
  /** What one lifted value may take of this thread's heap, in V8's layout as estimated by `charge`. */
  private readonly budget = Math.floor(getHeapStatistics().heap_size_limit * LIFT_HEAP_SHARE);
  private spent = 0;

  constructor(private readonly api: WasmtimeApi) {}

  /** Lifts one value the guest hands the host (an export's result), within the lift budget. */
  lift(p: Ptr, type: WitType, resources: ResourceBridge): unknown {
    this.spent = 0;
    return this.value(p, type, resources);
  }

  /** Lifts a host call's arguments, within one lift budget for them all (`undefined` past `count`). */
  liftParams(args: Ptr, params: readonly { type: WitType }[], count: number, resources: ResourceBridge): unknown[] {
    this.spent = 0;
    const out: unknown[] = new Array(params.length);
    for (let i = 0; i < params.length; i++) out[i] = i < count ? this.value(args + BigInt(i * VAL_SIZE), params[i]!.type, resources) : undefined;
    return out;
  }

  /** Counts what the next JavaScript value will take; past the budget the guest's call traps before it is built. */
  private charge(bytes: number): void {
    this.spent += bytes;
    if (this.spent > this.budget) throw new ValueError(liftTooLarge(this.spent, this.budget));
  }

  private value(p: Ptr, type: WitType, resources: ResourceBridge): unknown {
    const at = p + PAYLOAD;
    switch (type.kind) {
      case 'bool':
        return u8(at) !== 0;
      case 's8':
        return koffi.decode.int8(at);
      case 'u8':
        return u8(at);
      case 's16':
        return koffi.decode.int16(at);
      case 'u16':
        return koffi.decode.uint16(at);
      case 's32':
        return koffi.decode.int32(at);
      case 'u32':
        return koffi.decode.uint32(at);
      // koffi gives a Number for values that fit one: the convention is always a BigInt.
      case 's64':
        this.charge(24);
        return BigInt(koffi.decode(at, 'int64_t') as number | bigint);
      case 'u64':
        this.charge(24);
        return BigInt(koffi.decode(at, 'uint64_t') as number | bigint);
      case 'f32':
        return koffi.decode.float(at);
      case 'f64':
        return koffi.decode.double(at);
      case 'char':
        return String.fromCodePoint(koffi.decode.uint32(at));
      case 'string': {
        const n = size(at);
        this.charge(16 + n);
        return textOfSize(at, n);
      }
      case 'list':
        return this.liftList(at, type.element, resources);
      case 'tuple': {
        const data = ptr(at + 8n);
        this.charge(16 + 8 * type.types.length);
        return type.types.map((t, i) => this.value(data + BigInt(i * VAL_SIZE), t, resources));
      }
      case 'record': {
        const data = ptr(at + 8n);
        this.charge(24 + 8 * type.fields.length);
        const out: Record<string, unknown> = {};
        type.fields.forEach((f, i) => (out[f.key] = this.value(data + BigInt(i * ENTRY_SIZE + NAME_SIZE), f.type, resources)));
        return out;
      }
      case 'variant': {
        this.charge(32);
        const tag = nameAt(at);
        const c = type.cases.find((x) => x.name === tag);
        const payload = ptr(at + 16n);
        return c?.type && payload ? { tag, val: this.value(payload, c.type, resources) } : { tag };
      }
      case 'enum':
        return nameAt(at);
      case 'flags': {
        this.charge(24 + 8 * type.names.length);
        const set = new Set<string>();
        const data = ptr(at + 8n);
        for (let i = 0; i < size(at); i++) set.add(nameAt(data + BigInt(i * NAME_SIZE)));
        return Object.fromEntries(type.names.map((f) => [f.key, set.has(f.name)]));
      }
      case 'option': {
        // An option of something that may itself be undefined (an option) is tagged, to tell none from some(none).
        const inner = ptr(at);
        if (type.type.kind === 'option') return inner ? { tag: 'some', val: this.value(inner, type.type, resources) } : { tag: 'none' };
        return inner ? this.value(inner, type.type, resources) : undefined;
      }
      case 'result': {
        this.charge(32);
        const ok = u8(at) !== 0;
        const inner = ptr(at + 8n);
        const t = ok ? type.ok : type.err;
        return { tag: ok ? 'ok' : 'err', val: t && inner ? this.value(inner, t, resources) : undefined };
      }
      case 'own':
      case 'borrow':
        return resources.lift(ptr(at), type.kind === 'own');
      case 'unsupported':
        throw new ValueError(`values of type ${type.what} are not supported`);
    }
  }

  private liftList(at: Ptr, element: WitType, resources: ResourceBridge): unknown {
    const n = size(at);
    if (n === 0) return TYPED[element.kind] ? new TYPED[element.kind]!.array(0) : [];
    const data = ptr(at + 8n);
    const typed = TYPED[element.kind];
    // A typed array's elements live outside the heap (and are bounded by the guest's own memory).
    if (typed) {
      this.charge(64);
      const out = new typed.array(n);
      for (let i = 0; i < n; i++) out[i] = this.value(data + BigInt(i * VAL_SIZE), element, resources) as number | bigint;
      return out;
    }
    if (n > MAX_LIST_ELEMENTS) throw new ValueError(listTooLong(n));
    this.charge(16 + 8 * n);
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.value(data + BigInt(i * VAL_SIZE), element, resources);
    return out;
  }

  /**
   * Writes `value` as `type` into the value slot at `p`. The payload is written before the kind
   * byte: Wasmtime frees whatever a slot holds, so a slot must never say a kind its payload is not.
   */
  lower(p: Ptr, type: WitType, value: unknown, resources: ResourceBridge, path = 'value'): void {
    const at = p + PAYLOAD;
    const kind = this.lowerPayload(at, type, value, resources, path);
    writeU8(p, kind);
  }

  private lowerPayload(at: Ptr, type: WitType, value: unknown, resources: ResourceBridge, path: string): number {
    const fail = (what: string): never => {
      throw new ValueError(`${path}: expected ${what}, got ${describe(value)}`);
    };
    switch (type.kind) {
      case 'bool':
        if (typeof value !== 'boolean') fail('a boolean');
        koffi.encode(at, 'uint8_t', value ? 1 : 0);
        return K.bool;
      case 's8':
      case 'u8':
      case 's16':
      case 'u16':
      case 's32':
      case 'u32':
        koffi.encode(at, CTYPE[type.kind], intIn(value, type.kind, fail));
        return K[type.kind];
      case 's64':
      case 'u64':
        koffi.encode(at, CTYPE[type.kind], bigIn(value, type.kind, fail));
        return K[type.kind];
      case 'f32':
      case 'f64':
        if (typeof value !== 'number') fail('a number');
        koffi.encode(at, type.kind === 'f32' ? 'float' : 'double', value);
        return K[type.kind];
      case 'char': {
        const cp = typeof value === 'string' ? value.codePointAt(0) : undefined;
        if (cp === undefined || String.fromCodePoint(cp) !== value || (cp >= 0xd800 && cp <= 0xdfff)) fail('a single Unicode scalar value');
        koffi.encode(at, 'uint32_t', cp);
        return K.char;
      }
      case 'string':
        if (typeof value !== 'string') fail('a string');
        writeText(this.api, at, value as string);
        return K.string;
      case 'list':
        this.lowerList(at, type.element, value, resources, path, fail);
        return K.list;
      case 'tuple': {
        if (!Array.isArray(value) || value.length !== type.types.length) fail(`a tuple of ${type.types.length}`);
        this.api.wasmtime_component_valtuple_new_uninit(at, type.types.length);
        const data = ptr(at + 8n);
        type.types.forEach((t, i) => this.lower(data + BigInt(i * VAL_SIZE), t, (value as unknown[])[i], resources, `${path}[${i}]`));
        return K.tuple;
      }
      case 'record': {
        if (!value || typeof value !== 'object') fail('a record');
        this.api.wasmtime_component_valrecord_new_uninit(at, type.fields.length);
        const data = ptr(at + 8n);
        type.fields.forEach((f, i) => {
          const entry = data + BigInt(i * ENTRY_SIZE);
          writeText(this.api, entry, f.name);
          this.lower(entry + BigInt(NAME_SIZE), f.type, (value as Record<string, unknown>)[f.key], resources, `${path}.${f.key}`);
        });
        return K.record;
      }
      case 'variant': {
        const v = value as { tag?: unknown; val?: unknown } | null;
        const c = v && typeof v === 'object' ? type.cases.find((x) => x.name === v.tag) : undefined;
        if (!c) fail(`one of the cases ${type.cases.map((x) => x.name).join(', ')}`);
        writeText(this.api, at, c!.name);
        writePtr(at + 16n, c!.type ? this.boxed(c!.type, v!.val, resources, `${path}.val`) : 0n);
        return K.variant;
      }
      case 'enum':
        if (typeof value !== 'string' || !type.names.includes(value)) fail(`one of ${type.names.join(', ')}`);
        writeText(this.api, at, value as string);
        return K.enum;
      case 'flags': {
        if (!value || typeof value !== 'object') fail('an object of flags');
        const set = type.names.filter((f) => (value as Record<string, unknown>)[f.key]);
        this.api.wasmtime_component_valflags_new_uninit(at, set.length);
        const data = ptr(at + 8n);
        set.forEach((f, i) => writeText(this.api, data + BigInt(i * NAME_SIZE), f.name));
        return K.flags;
      }
      case 'option': {
        let inner: { some: boolean; val?: unknown };
        if (type.type.kind === 'option') {
          const v = value as { tag?: unknown; val?: unknown } | undefined | null;
          if (v?.tag === 'none') inner = { some: false };
          else if (v?.tag === 'some') inner = { some: true, val: v.val };
          else return fail("an option of an option: {tag: 'some' | 'none'}");
        } else inner = value === undefined || value === null ? { some: false } : { some: true, val: value };
        writePtr(at, inner.some ? this.boxed(type.type, inner.val, resources, path) : 0n);
        return K.option;
      }
      case 'result': {
        const v = value as { tag?: unknown; val?: unknown } | null;
        if (!v || (v.tag !== 'ok' && v.tag !== 'err')) fail("a result: {tag: 'ok' | 'err', val}");
        const t = v!.tag === 'ok' ? type.ok : type.err;
        koffi.encode(at, 'uint8_t', v!.tag === 'ok' ? 1 : 0);
        writePtr(at + 8n, t ? this.boxed(t, v!.val, resources, `${path}.val`) : 0n);
        return K.result;
      }
      case 'own':
      case 'borrow':
        writePtr(at, resources.lower(value, type.kind === 'own'));
        return K.resource;
      case 'unsupported':
        throw new ValueError(`${path}: values of type ${type.what} are not supported`);
    }
  }

  private lowerList(at: Ptr, element: WitType, value: unknown, resources: ResourceBridge, path: string, fail: (what: string) => never): void {
    if (element.kind === 'u8' && value instanceof Uint8Array) {
      // Fast path: byte lists are written by building a vallist of u8 values from the bytes.
      this.api.wasmtime_component_vallist_new_uninit(at, value.length);
      const data = ptr(at + 8n);
      for (let i = 0; i < value.length; i++) {
        const slot = data + BigInt(i * VAL_SIZE);
        koffi.encode(slot + PAYLOAD, 'uint8_t', value[i]!);
        writeU8(slot, K.u8);
      }
      return;
    }
    const items = Array.isArray(value) || ArrayBuffer.isView(value) ? Array.from(value as ArrayLike<unknown>) : undefined;
    if (!items) return fail('a list');
    this.api.wasmtime_component_vallist_new_uninit(at, items.length);
    const data = ptr(at + 8n);
    items.forEach((item, i) => this.lower(data + BigInt(i * VAL_SIZE), element, item, resources, `${path}[${i}]`));
  }

  /** A value boxed in Wasmtime's own allocation (wasmtime_component_val_new), for options, variants and results. */
  private boxed(type: WitType, value: unknown, resources: ResourceBridge, path: string): Ptr {
    const slot = pool[depth] ?? (pool[depth] = koffi.alloc('uint8_t', VAL_SIZE) as Ptr);
    depth++;
    try {
      this.lower(slot, type, value, resources, path);
    } finally {
      depth--;
    }
    return this.api.wasmtime_component_val_new(slot) as Ptr;
  }
}

const CTYPE = { s8: 'int8_t', u8: 'uint8_t', s16: 'int16_t', u16: 'uint16_t', s32: 'int32_t', u32: 'uint32_t', s64: 'int64_t', u64: 'uint64_t' } as const;
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'no prototype'})`;
  if (typeof value === 'string') return `a string of ${value.length}`;
  return `${typeof value} ${String(value).slice(0, 40)}`;
}

/**
 * Scratch slots for boxed values, one per nesting depth, never freed: wasmtime_component_val_new
 * moves a slot's contents into Wasmtime's own allocation, so a slot is free again when it returns.
 */
const pool: Ptr[] = [];
let depth = 0;
