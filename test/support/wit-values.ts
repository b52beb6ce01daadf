import type { Gen } from './gen.js';

/**
 * Seeded values of WIT types in jco's JavaScript convention, the one Berth's host APIs use
 * (docs/fixtures.md, `echo`): every engine must take and give values in exactly this shape.
 *
 * - bool: boolean; u8…u32, s8…s32, f32, f64: number; u64, s64: BigInt; char: a one-code-point string
 * - string: string (scalar values only: a lone surrogate has no UTF-8 form and is not generated)
 * - list<u8>, list<u32>, list<s64>, list<f64>: Uint8Array, Uint32Array, BigInt64Array, Float64Array
 *   (an engine accepts a plain array as well; it gives back the typed array)
 * - other lists and tuples: arrays; record: an object with camelCase field names
 * - variant: `{ tag, val }` with the WIT case name as tag (kebab-case), no `val` without payload
 * - enum: the case name as a string (kebab-case); flags: an object of booleans, camelCase keys
 * - option<T>: T or undefined; option<option<T>> (any option of something that may be undefined):
 *   `{ tag: 'none' }` or `{ tag: 'some', val }`
 * - result<T, E> inside a value: `{ tag: 'ok' | 'err', val }`; as a function's own result: ok is
 *   the returned value, err the guest's error (Berth's `app-error` with the err value as payload)
 * - f32: values representable in f32 (Math.fround); -0 is kept apart from 0, NaN equals NaN.
 */

export type Tagged = { tag: string; val?: unknown };
export type Point = { x: number; y: number };

const TWO_32 = 2 ** 32;
const U64_MAX = 2n ** 64n - 1n;
const S64_MIN = -(2n ** 63n);
const S64_MAX = 2n ** 63n - 1n;

/** An integer in [min, max], often one of the range's edges or their neighbours. */
export function intIn(g: Gen, min: number, max: number): number {
  return g.mostly(
    () => g.int(min, max),
    () => g.pick([min, max, 0, 1, -1, min + 1, max - 1].filter((n) => n >= min && n <= max)),
  );
}

export const bool = (g: Gen): boolean => g.bool();
export const u8 = (g: Gen): number => intIn(g, 0, 255);
export const s8 = (g: Gen): number => intIn(g, -128, 127);
export const u16 = (g: Gen): number => intIn(g, 0, 65535);
export const s16 = (g: Gen): number => intIn(g, -32768, 32767);
export const u32 = (g: Gen): number => intIn(g, 0, TWO_32 - 1);
export const s32 = (g: Gen): number => intIn(g, -(2 ** 31), 2 ** 31 - 1);

function bits64(g: Gen): bigint {
  return (BigInt(g.int(0, TWO_32 - 1)) << 32n) | BigInt(g.int(0, TWO_32 - 1));
}

export function u64(g: Gen): bigint {
  return g.mostly(
    () => (g.bool() ? bits64(g) : BigInt(g.int(0, 1_000_000))),
    () => g.pick([0n, 1n, U64_MAX, U64_MAX - 1n, 2n ** 63n, 2n ** 63n - 1n, 2n ** 53n + 1n, 2n ** 32n, 2n ** 32n - 1n]),
  );
}

export function s64(g: Gen): bigint {
  return g.mostly(
    () => (g.bool() ? BigInt.asIntN(64, bits64(g)) : BigInt(g.int(-1_000_000, 1_000_000))),
    () => g.pick([0n, -1n, 1n, S64_MIN, S64_MAX, S64_MIN + 1n, S64_MAX - 1n, -(2n ** 53n) - 1n, 2n ** 31n, -(2n ** 31n) - 1n]),
  );
}

const scratch = new DataView(new ArrayBuffer(8));

const F32_EDGES = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  3.4028234663852886e38,
  -3.4028234663852886e38,
  1.401298464324817e-45,
  -1.401298464324817e-45,
  1.1754943508222875e-38,
  Math.fround(0.1),
  16777216,
  1,
];

/** Any f32: from random bits (every class of value, NaN included), a small decimal, or an edge. */
export function f32(g: Gen): number {
  return g.mostly(
    () => {
      if (g.bool(0.5)) return Math.fround((g.next() - 0.5) * 10 ** g.int(-6, 6));
      scratch.setUint32(0, g.int(0, TWO_32 - 1));
      return scratch.getFloat32(0);
    },
    () => g.pick(F32_EDGES),
  );
}

const F64_EDGES = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  Number.EPSILON,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  0.1,
  2.2250738585072014e-308,
];

export function f64(g: Gen): number {
  return g.mostly(
    () => {
      if (g.bool(0.5)) return (g.next() - 0.5) * 10 ** g.int(-12, 12);
      scratch.setUint32(0, g.int(0, TWO_32 - 1));
      scratch.setUint32(4, g.int(0, TWO_32 - 1));
      return scratch.getFloat64(0);
    },
    () => g.pick(F64_EDGES),
  );
}

/** Code points at the edges of UTF-8's lengths and of the surrogate gap. */
const CHAR_EDGES = [0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xfffe, 0xffff, 0x10000, 0x10ffff];

/** A Unicode scalar value (never a surrogate): mostly ASCII, then the rest of the BMP, then astral. */
export function codePoint(g: Gen): number {
  const roll = g.next();
  if (roll < 0.5) return g.int(0x20, 0x7e);
  if (roll < 0.6) return g.int(0, 0x1f);
  if (roll < 0.75) {
    const n = g.int(0x80, 0xffff - 0x800);
    return n < 0xd800 ? n : n + 0x800;
  }
  if (roll < 0.9) return g.int(0x10000, 0x10ffff);
  return g.pick(CHAR_EDGES);
}

export const char = (g: Gen): string => String.fromCodePoint(codePoint(g));

export function string(g: Gen, maxLength = 24): string {
  return g.mostly(
    () => {
      let out = '';
      for (let i = g.int(0, maxLength); i > 0; i--) out += char(g);
      return out;
    },
    () =>
      g.pick([
        () => '',
        () => '\0',
        () => '😀'.repeat(g.int(1, 8)),
        () => 'a'.repeat(g.int(200, 3000)),
        () => `a\0b${char(g)}`,
        () => String.fromCodePoint(0x10ffff, 0xd7ff, 0xe000),
      ])(),
    0.4,
  );
}

/** A list of 0 to `max` items, sometimes empty and now and then long. */
export function list<T>(g: Gen, item: (g: Gen) => T, max = 6): T[] {
  const length = g.mostly(
    () => g.int(0, max),
    () => g.pick([0, 1, max * 8]),
    0.3,
  );
  return Array.from({ length }, () => item(g));
}

export const bytes = (g: Gen): Uint8Array => Uint8Array.from(list(g, u8, 64));
export const u32s = (g: Gen): Uint32Array => Uint32Array.from(list(g, u32, 16));
export const s64s = (g: Gen): BigInt64Array => BigInt64Array.from(list(g, s64, 16));
export const f64s = (g: Gen): Float64Array => Float64Array.from(list(g, f64, 16));
export const strings = (g: Gen): string[] => list(g, (g) => string(g, 12));

/** option<T> where T is never undefined itself. */
export function option<T>(g: Gen, some: (g: Gen) => T): T | undefined {
  return g.bool(0.3) ? undefined : some(g);
}

/** option<option<T>>: the outer option is tagged because the inner one may be undefined. */
export function optionOption<T>(g: Gen, some: (g: Gen) => T): Tagged {
  return g.bool(0.25) ? { tag: 'none' } : { tag: 'some', val: option(g, some) };
}

/** result<T, E> as a value inside another: tagged. */
export function result<T, E>(g: Gen, ok: (g: Gen) => T, err: (g: Gen) => E): Tagged {
  return g.bool() ? { tag: 'ok', val: ok(g) } : { tag: 'err', val: err(g) };
}

/** A result with no payload on either side: `{ tag }` alone. */
export const bareResult = (g: Gen): Tagged => ({ tag: g.bool() ? 'ok' : 'err' });

export const point = (g: Gen): Point => ({ x: s32(g), y: s32(g) });

export function inner(g: Gen): Record<string, unknown> {
  return { name: string(g), tags: strings(g), at: point(g), weight: option(g, f64) };
}

export function outer(g: Gen): Record<string, unknown> {
  return {
    id: u64(g),
    createdAt: s64(g),
    label: string(g),
    inner: inner(g),
    inners: list(g, inner, 3),
    maybe: option(g, inner),
    bytes: bytes(g),
    ratio: f32(g),
  };
}

export function shape(g: Gen): Tagged {
  return g.pick<() => Tagged>([
    () => ({ tag: 'empty' }),
    () => ({ tag: 'circle', val: f32(g) }),
    () => ({ tag: 'rect', val: point(g) }),
    () => ({ tag: 'named', val: string(g) }),
    () => ({ tag: 'many', val: u32s(g) }),
    () => ({ tag: 'deep', val: option(g, inner) }),
    () => ({ tag: 'bounding-box', val: [point(g), point(g)] }),
  ])();
}

export const COLORS = ['red', 'green', 'blue', 'cyan', 'magenta', 'yellow', 'black', 'dark-gray'] as const;
export const color = (g: Gen): string => g.pick(COLORS);

function flagsOf(g: Gen, names: readonly string[]): Record<string, boolean> {
  const all = g.bool(0.1) ? g.bool() : undefined;
  return Object.fromEntries(names.map((name) => [name, all ?? g.bool()]));
}

export const SMALL_FLAGS = ['read', 'write', 'execute', 'setUid'] as const;
/** The most flags one WIT `flags` may have: wasm-tools refuses a 33rd ("cannot have more than 32 flags"). */
export const FULL_FLAGS = Array.from({ length: 32 }, (_, i) => `f${i}`);
export const small = (g: Gen): Record<string, boolean> => flagsOf(g, SMALL_FLAGS);
export const full = (g: Gen): Record<string, boolean> => flagsOf(g, FULL_FLAGS);

export function mixed(g: Gen): Record<string, unknown> {
  return {
    shapes: list(g, (g) => option(g, shape), 4),
    colors: list(g, color),
    perms: list(g, small, 3),
    pairs: list(g, (g) => [string(g, 8), s64(g)], 4),
    outcomes: list(g, (g) => result(g, u16, string), 4),
    nothing: list(g, bareResult, 4),
    maybes: list(g, (g) => optionOption(g, s8), 4),
    nested: list(g, strings, 3),
    chars: list(g, char, 8),
  };
}
