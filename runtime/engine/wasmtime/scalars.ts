import type { WitType } from './types.js';

/**
 * Scalars written and read through a DataView over Berth's own argument and result slots: the
 * common case of a call (numbers, booleans) then costs no FFI call per value. Layout as in
 * values.ts: the kind byte at 0, the payload at 8, little-endian.
 */
const KIND = { bool: 0, s8: 1, u8: 2, s16: 3, u16: 4, s32: 5, u32: 6, s64: 7, u64: 8, f32: 9, f64: 10, char: 11 } as const;
type ScalarKind = keyof typeof KIND;

export function isScalar(type: WitType): type is { kind: ScalarKind } {
  return type.kind in KIND;
}

const RANGE: Record<string, [number, number]> = {
  s8: [-128, 127],
  u8: [0, 255],
  s16: [-32768, 32767],
  u16: [0, 65535],
  s32: [-(2 ** 31), 2 ** 31 - 1],
  u32: [0, 2 ** 32 - 1],
};
const BIG: Record<string, [bigint, bigint]> = { s64: [-(2n ** 63n), 2n ** 63n - 1n], u64: [0n, 2n ** 64n - 1n] };

/** A WIT integer of up to 32 bits, checked against its kind's range (`fail` names what was expected). */
export function intIn(value: unknown, kind: string, fail: (what: string) => never): number {
  const [min, max] = RANGE[kind]!;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(`a ${kind} integer`);
  return value as number;
}

/** A WIT s64 or u64: a BigInt, or a safe integer Number, within its kind's range. */
export function bigIn(value: unknown, kind: string, fail: (what: string) => never): bigint {
  const [min, max] = BIG[kind]!;
  const v = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : undefined;
  if (v === undefined || v < min || v > max) fail(`a ${kind} integer (BigInt)`);
  return v!;
}

/** Writes a scalar; a value of the wrong shape throws before anything is written. */
export function writeScalar(view: DataView, at: number, type: { kind: ScalarKind }, value: unknown, path: string): void {
  const fail = (what: string): never => {
    throw new TypeError(`${path}: expected ${what}, got ${typeof value} ${String(value).slice(0, 40)}`);
  };
  const p = at + 8;
  switch (type.kind) {
    case 'bool':
      if (typeof value !== 'boolean') fail('a boolean');
      view.setUint8(p, value ? 1 : 0);
      break;
    case 's8':
    case 'u8':
    case 's16':
    case 'u16':
    case 's32':
    case 'u32': {
      const v = intIn(value, type.kind, fail);
      if (type.kind === 's8') view.setInt8(p, v);
      else if (type.kind === 'u8') view.setUint8(p, v);
      else if (type.kind === 's16') view.setInt16(p, v, true);
      else if (type.kind === 'u16') view.setUint16(p, v, true);
      else if (type.kind === 's32') view.setInt32(p, v, true);
      else view.setUint32(p, v, true);
      break;
    }
    case 's64':
    case 'u64': {
      const v = bigIn(value, type.kind, fail);
      if (type.kind === 's64') view.setBigInt64(p, v, true);
      else view.setBigUint64(p, v, true);
      break;
    }
    case 'f32':
    case 'f64':
      if (typeof value !== 'number') fail('a number');
      if (type.kind === 'f32') view.setFloat32(p, value as number, true);
      else view.setFloat64(p, value as number, true);
      break;
    case 'char': {
      const cp = typeof value === 'string' ? value.codePointAt(0) : undefined;
      if (cp === undefined || String.fromCodePoint(cp) !== value || (cp >= 0xd800 && cp <= 0xdfff)) fail('a single Unicode scalar value');
      view.setUint32(p, cp!, true);
      break;
    }
  }
  view.setUint8(at, KIND[type.kind]);
}

export function readScalar(view: DataView, at: number, type: { kind: ScalarKind }): unknown {
  const p = at + 8;
  switch (type.kind) {
    case 'bool':
      return view.getUint8(p) !== 0;
    case 's8':
      return view.getInt8(p);
    case 'u8':
      return view.getUint8(p);
    case 's16':
      return view.getInt16(p, true);
    case 'u16':
      return view.getUint16(p, true);
    case 's32':
      return view.getInt32(p, true);
    case 'u32':
      return view.getUint32(p, true);
    case 's64':
      return view.getBigInt64(p, true);
    case 'u64':
      return view.getBigUint64(p, true);
    case 'f32':
      return view.getFloat32(p, true);
    case 'f64':
      return view.getFloat64(p, true);
    case 'char':
      return String.fromCodePoint(view.getUint32(p, true));
  }
}
