import type { Rng } from './fuzz-rng.js';

/**
 * JSON bodies for the fuzz benchmark, generated from the JSON Schema of the zod schema a route
 * reads its body with (found by bench/fuzz-target.ts): valid values, boundary values, and
 * mutations of a valid value (wrong types, extra fields, lone surrogates, NUL, deep nesting,
 * huge arrays, numbers out of range). Out-of-range numbers and deep nesting cannot be (or
 * cannot be stringified from) JavaScript values, so they travel as raw JSON text in a marker
 * string replaced in the serialised text.
 */
type Schema = Record<string, unknown>;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const RAW_MARK = '\u0001raw:';
const WILD_NUMBERS = [
  '1e400',
  '-1e400',
  '123456789012345678901234567890',
  '-0',
  '1.0e-400',
  '9007199254740993',
  '0.1e1',
  '2147483648',
  '-2147483649',
  '18446744073709551616',
];

/** Strings tried first against a pattern, so that ids, digests and versions come out valid. */
const CANDIDATES = [
  'fuzzco',
  'fuzzco-meter',
  '1.0.0',
  'fuzzco-meter-all',
  'othervendor',
  'a',
  'a1',
  'dev-1',
  'x.y',
  '0.0.1-rc.1',
  `sha256:${'7'.repeat(64)}`,
  '7'.repeat(64),
  'admin',
  'operator',
  'vendor:fuzzco',
  'worker',
  'process',
  'wasm',
  'oci://127.0.0.1:5000/fuzzco/meter:1.0.0',
  'spiffe://fuzz.bench/device/dev-1',
  '2026-01-01T00:00:00Z',
  'https://example.com/x',
  'amd64',
  'arm64',
  'key',
  'value',
  'env',
  'PENDING',
  'INSTALLED',
  'RUNNING',
  'FAILED',
  '64Mi',
  '1Gi',
  '100m',
];

export class BodyGenerator {
  constructor(
    private readonly rng: Rng,
    private readonly extraCandidates: readonly string[] = [],
  ) {}

  /** A serialised body for `schema`: valid, boundary or mutated. */
  body(schema: Schema): string {
    const kind = this.rng.int(0, 9);
    if (kind <= 2) return serialise(this.value(schema, schema, 'valid', 0));
    if (kind <= 4) return serialise(this.value(schema, schema, 'boundary', 0));
    return serialise(this.mutate(this.value(schema, schema, 'valid', 0), 0));
  }

  private value(s: Schema, root: Schema, mode: 'valid' | 'boundary', depth: number): Json {
    if (depth > 12) return null;
    const ref = s.$ref;
    if (typeof ref === 'string') return this.value(resolve(root, ref), root, mode, depth + 1);
    if ('const' in s) return s.const as Json;
    if (Array.isArray(s.enum)) return this.rng.pick(s.enum as Json[]);
    const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
    if (alternatives?.length) return this.value(this.rng.pick(alternatives), root, mode, depth + 1);
    if (Array.isArray(s.allOf) && s.allOf.length)
      return this.value({ ...s, allOf: undefined, ...(s.allOf as Schema[]).reduce((a, b) => ({ ...a, ...b }), {}) }, root, mode, depth + 1);
    const type = Array.isArray(s.type) ? this.rng.pick(s.type as string[]) : (s.type as string | undefined);
    switch (type) {
      case 'object':
        return this.object(s, root, mode, depth);
      case 'array': {
        const min = num(s.minItems, 0);
        const max = Math.min(num(s.maxItems, min + 3), min + 3);
        const n = mode === 'boundary' ? this.rng.pick([min, num(s.maxItems, min + 3)]) : this.rng.int(min, max);
        const items = (s.items ?? {}) as Schema;
        return Array.from({ length: Math.min(n, 200) }, () => this.value(items, root, mode, depth + 1));
      }
      case 'string':
        return this.string(s, mode);
      case 'integer':
      case 'number':
        return this.number(s, type, mode);
      case 'boolean':
        return this.rng.chance(0.5);
      case 'null':
        return null;
      default:
        return this.rng.pick<Json>(['x', 1, true, null, {}, []]);
    }
  }

  private object(s: Schema, root: Schema, mode: 'valid' | 'boundary', depth: number): Json {
    const out: { [key: string]: Json } = {};
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    const required = new Set((s.required ?? []) as string[]);
    for (const [key, sub] of Object.entries(properties)) {
      if (required.has(key) || this.rng.chance(mode === 'boundary' ? 0.9 : 0.7)) out[key] = this.value(sub, root, mode, depth + 1);
    }
    const extra = s.additionalProperties;
    if (extra && typeof extra === 'object') {
      const names = (s.propertyNames ?? { type: 'string' }) as Schema;
      for (let i = this.rng.int(1, 3); i > 0; i--) out[String(this.string(names, mode))] = this.value(extra as Schema, root, mode, depth + 1);
    }
    return out;
  }

  private string(s: Schema, mode: 'valid' | 'boundary'): string {
    const min = num(s.minLength, 0);
    const max = num(s.maxLength, 64);
    const pattern = typeof s.pattern === 'string' ? safeRegExp(s.pattern) : undefined;
    const fits = (v: string) => v.length >= min && v.length <= max && (!pattern || pattern.test(v));
    if (s.format === 'date-time') return new Date(Date.UTC(2026, 0, 1) + this.rng.int(0, 1e9) * 1000).toISOString();
    if (s.format === 'uri' || s.format === 'url') return 'https://example.com/' + this.rng.int(0, 999);
    if (s.format === 'uuid') return '123e4567-e89b-42d3-a456-426614174000';
    if (mode === 'boundary' && !pattern) return this.rng.pick(['a'.repeat(min), 'a'.repeat(Math.min(max, 100_000)), 'a'.repeat(Math.min(max + 1, 100_001))]);
    const known = [...CANDIDATES, ...this.extraCandidates].filter(fits);
    if (known.length && this.rng.chance(0.8)) return this.rng.pick(known);
    const length = this.rng.int(Math.max(min, 1), Math.max(min, Math.min(max, 24)));
    return Array.from({ length }, () => this.rng.pick([...'abcdefghijklmnopqrstuvwxyz0123456789-._'])).join('');
  }

  private number(s: Schema, type: string, mode: 'valid' | 'boundary'): Json {
    const min = num(s.minimum, num(s.exclusiveMinimum, -1000));
    const max = num(s.maximum, num(s.exclusiveMaximum, 1000));
    if (mode === 'boundary') return this.rng.pick([min, max, min - 1, max + 1, type === 'integer' ? min + 0.5 : Number.MAX_VALUE]);
    const v = min + this.rng.next() * (max - min);
    return type === 'integer' ? Math.round(v) : v;
  }

  /** One mutation at a random place in `value`. */
  private mutate(value: Json, depth: number): Json {
    if (depth < 6 && value !== null && typeof value === 'object' && this.rng.chance(0.85)) {
      if (Array.isArray(value)) {
        if (value.length === 0) return [this.hostileValue()];
        const i = this.rng.int(0, value.length - 1);
        const copy = [...value];
        copy[i] = this.mutate(copy[i]!, depth + 1);
        return copy;
      }
      const keys = Object.keys(value);
      if (keys.length && this.rng.chance(0.8)) {
        // Mostly into what holds strings: that is where text meets the store.
        const nested = keys.filter((k) => typeof value[k] === 'string' || (value[k] !== null && typeof value[k] === 'object'));
        const key = this.rng.pick(nested.length && this.rng.chance(0.7) ? nested : keys);
        return { ...value, [key]: this.mutate(value[key]!, depth + 1) };
      }
      return { ...value, [this.rng.pick(['extra', '__proto__', 'constructor', '\ud800', 'a\u0000b', ''])]: this.hostileValue() };
    }
    if (typeof value === 'string' && this.rng.chance(0.7)) return this.hostileString(value);
    return this.hostileValue();
  }

  /** A string with something PostgreSQL, URLs or logs may choke on. */
  hostileString(base = ''): string {
    const cut = this.rng.int(0, base.length);
    // Weighted toward what PostgreSQL refuses (lone surrogates, NUL).
    const insert = this.rng.pick([
      '\ud800',
      '\udfff',
      '\ud83d',
      '\u0000',
      '\ud800',
      '\u0000',
      '\u202e',
      '\ufeff',
      '\r\n',
      '../',
      '%00',
      '\u00e9\u0301',
      '\ud83d\ude00',
      'a'.repeat(70_000),
    ]);
    return base.slice(0, cut) + insert + base.slice(cut);
  }

  private hostileValue(): Json {
    switch (this.rng.int(0, 9)) {
      case 0:
        return this.hostileString('x');
      case 1:
        return rawJson(this.rng.pick(WILD_NUMBERS));
      case 2:
        return nest(this.rng.pick([65, 200, 5000]));
      case 3:
        return Array.from({ length: this.rng.pick([1000, 100_000]) }, (_, i) => i);
      case 4:
        return this.rng.pick<Json>([null, true, 0, -1, 1.5, '', [], {}]);
      case 5:
        return { a: { b: { c: this.hostileString('y') } } };
      case 6:
        return this.rng.pick<Json>([Number.MAX_SAFE_INTEGER + 2, -Number.MAX_VALUE, 1e-320]);
      case 7:
        return ['\ud800', '\u0000', 'ok'];
      case 8:
        return Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i]));
      default:
        return 'z'.repeat(this.rng.pick([1, 255, 256, 4096, 65_537]));
    }
  }
}

/** Bodies that are no JSON a schema could describe: raw bytes, truncations, oddities. */
export function brokenJson(rng: Rng): Buffer {
  const texts = [
    '{',
    '{"a":',
    '[1,2',
    '{"a":1}{"b":2}',
    'null',
    '"\\ud800"',
    '"\\u0000"',
    '{"a":"\\x"}',
    '\ufeff{}',
    '{"a":1,}',
    'NaN',
    '1e999999',
    '['.repeat(100_000),
    '{}'.padEnd(2000, ' '),
  ];
  if (rng.chance(0.5)) return Buffer.from(rng.pick(texts));
  const bytes = rng.bytes(rng.pick([1, 16, 1024, 70_000]));
  if (rng.chance(0.3)) bytes[0] = 0x7b;
  return bytes;
}

export function serialise(value: Json): string {
  return JSON.stringify(value).replace(/"\\u0001raw:([A-Za-z0-9+/=]*)"/g, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
}

function rawJson(text: string): string {
  return RAW_MARK + Buffer.from(text, 'utf8').toString('base64');
}

function nest(depth: number): Json {
  return rawJson('{"d":['.repeat(depth) + '"deep"' + ']}'.repeat(depth));
}

function resolve(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#')) return {};
  let node: unknown = root;
  for (const part of ref.slice(2).split('/').filter(Boolean)) node = (node as Schema | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return (node as Schema | undefined) ?? {};
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function safeRegExp(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
}
