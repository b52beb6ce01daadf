import { EchoToken } from './echo-host.js';

/**
 * Compares a value that came back from a guest with the one expected (both in the convention of
 * wit-values.ts) and names the first difference by its path (`$.inners[2].tags[0]`).
 *
 * - numbers: `Object.is`, so -0 and 0 differ (the canonical ABI passes floats bit for bit, and
 *   both engines keep the sign), and NaN equals NaN whatever its bits (the ABI may canonicalize them);
 * - typed arrays: the same kind (a Uint32Array is not a plain array), then element by element;
 * - objects: an absent field equals one that is `undefined` (an option's none, a variant case
 *   without payload);
 * - host resources: an `EchoToken` expected means that very object (a handle the host passed in
 *   comes back as the host's own object); `tokenLabelled(label)` means any `EchoToken` with that label.
 */

/** Expected: some host token, made in the guest, whose label is `label`. */
export class TokenLabelled {
  constructor(readonly label: string) {}
}

export const tokenLabelled = (label: string): TokenLabelled => new TokenLabelled(label);

export function firstDifference(expected: unknown, actual: unknown, path = '$'): string | undefined {
  if (expected instanceof TokenLabelled) {
    if (!(actual instanceof EchoToken)) return `${path}: expected a token labelled ${show(expected.label)}, got ${show(actual)}`;
    return actual.label() === expected.label
      ? undefined
      : `${path}: expected a token labelled ${show(expected.label)}, got one labelled ${show(actual.label())}`;
  }
  if (expected instanceof EchoToken)
    return actual === expected ? undefined : `${path}: expected the token the host passed in (${show(expected.label())}), got ${show(actual)}`;
  if (typeof expected === 'number') return sameNumber(expected, actual) ? undefined : `${path}: expected ${show(expected)}, got ${show(actual)}`;
  if (typeof expected !== 'object' || expected === null) return actual === expected ? undefined : `${path}: expected ${show(expected)}, got ${show(actual)}`;
  if (ArrayBuffer.isView(expected)) return typedDifference(expected, actual, path);
  if (Array.isArray(expected)) return arrayDifference(expected, actual, path);
  return objectDifference(expected as Record<string, unknown>, actual, path);
}

function sameNumber(expected: number, actual: unknown): boolean {
  return typeof actual === 'number' && (Object.is(expected, actual) || (Number.isNaN(expected) && Number.isNaN(actual)));
}

function typedDifference(expected: ArrayBufferView, actual: unknown, path: string): string | undefined {
  if (kindOf(actual) !== kindOf(expected)) return `${path}: expected a ${kindOf(expected)}, got ${show(actual)}`;
  return arrayDifference(Array.from(expected as unknown as ArrayLike<unknown>), Array.from(actual as ArrayLike<unknown>), path);
}

function arrayDifference(expected: readonly unknown[], actual: unknown, path: string): string | undefined {
  if (!Array.isArray(actual)) return `${path}: expected an array of ${expected.length}, got ${show(actual)}`;
  if (actual.length !== expected.length) return `${path}: expected ${expected.length} elements, got ${actual.length}: ${show(actual)}`;
  for (let i = 0; i < expected.length; i++) {
    const difference = firstDifference(expected[i], actual[i], `${path}[${i}]`);
    if (difference) return difference;
  }
  return undefined;
}

function objectDifference(expected: Record<string, unknown>, actual: unknown, path: string): string | undefined {
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual) || ArrayBuffer.isView(actual))
    return `${path}: expected an object, got ${show(actual)}`;
  const got = actual as Record<string, unknown>;
  const extra = Object.keys(got).find((key) => !(key in expected) && got[key] !== undefined);
  if (extra !== undefined) return `${path}.${extra}: not expected, got ${show(got[extra])}`;
  for (const key of Object.keys(expected)) {
    const difference = firstDifference(expected[key], got[key], `${path}.${key}`);
    if (difference) return difference;
  }
  return undefined;
}

function kindOf(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** A short, exact rendering for messages: BigInt with `n`, -0, typed arrays by kind, tokens by label. */
export function show(value: unknown, limit = 300): string {
  // Bare words (123n, -0, <undefined>) are written as marked strings, then unquoted.
  const bare = (word: string) => `${MARK}${word}${MARK}`;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return bare(`${v}n`);
    if (typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v))) return bare(Object.is(v, -0) ? '-0' : String(v));
    if (v === undefined) return bare('<undefined>');
    if (v instanceof EchoToken) return bare(`<token ${JSON.stringify(v.label())}>`);
    if (v instanceof TokenLabelled) return bare(`<a token labelled ${JSON.stringify(v.label)}>`);
    if (ArrayBuffer.isView(v)) return { [kindOf(v)]: Array.from(v as unknown as ArrayLike<unknown>) };
    return v;
  });
  const shown = (text ?? bare('<undefined>')).replace(MARKED, (_all, word: string) => JSON.parse(`"${word}"`) as string);
  return shown.length > limit ? `${shown.slice(0, limit)}… (${shown.length} characters)` : shown;
}

const MARK = '\u0001';
/** A marked string as JSON.stringify writes it (the mark escaped), quotes included. */
const MARKED = /"\\u0001(.*?)\\u0001"/g;
