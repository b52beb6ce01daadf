import { BerthError } from '../../common/errors.js';
import { REPLACEMENT_CHARACTER, toWellFormed } from '../../common/text.js';

/**
 * The store's text boundary. PostgreSQL holds only well-formed UTF-8 without U+0000, in text and
 * in jsonb alike, and answers anything else with an error that would reach a client as a 500.
 * Every query parameter passes through `storeParams` (pglite.ts and postgres.ts call it on every
 * query), so no route has to remember:
 *
 * - Lone surrogates become U+FFFD, in plain text and in JSON values (keys too), recursively.
 * - U+0000 in a JSON value (labels, error messages, policies: free text) becomes U+FFFD.
 * - U+0000 in a plain text parameter (ids, names, lookups) is refused with `store.nul_in_text`
 *   (a 400): replacing it would make one id look up another.
 *
 * JSON goes to the store as `jsonParam(value)`, never as a JSON.stringify'd string: once
 * serialised, "\udc00" is six ASCII characters that PostgreSQL refuses and nothing here can tell
 * apart from text a person typed.
 */
export class JsonParam {
  constructor(readonly value: unknown) {}
}

/** A JSON value for a jsonb parameter (`$n::jsonb` or a jsonb column); `null` and `undefined` stay SQL NULL. */
export function jsonParam(value: unknown): JsonParam | null {
  return value === undefined || value === null ? null : new JsonParam(value);
}

export function storeParams(params: readonly unknown[]): unknown[] {
  return params.map((p, index) => storeParam(p, index));
}

function storeParam(p: unknown, index: number): unknown {
  if (typeof p === 'string') return storeText(p, index);
  if (p instanceof JsonParam) return JSON.stringify(cleanJson(p.value, 0));
  // text[] parameters (unnest, ANY): each element is plain text.
  if (Array.isArray(p)) return p.map((x) => storeParam(x, index));
  return p;
}

function storeText(text: string, index: number): string {
  if (text.includes('\u0000')) {
    throw new BerthError('store.nul_in_text', `a name or id (query parameter ${index + 1}) contains U+0000 (NUL), which no id can hold`);
  }
  return toWellFormed(text);
}

const MAX_DEPTH = 100;

/** A copy of a JSON value whose every string and key is storable text. */
function cleanJson(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new BerthError('store.too_deep', `a JSON value nests deeper than ${MAX_DEPTH} levels`);
  if (typeof value === 'string') return cleanText(value);
  if (hasToJson(value)) return cleanJson(value.toJSON(), depth + 1);
  if (Array.isArray(value)) return value.map((v) => cleanJson(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[cleanText(k)] = cleanJson(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** Dates and the like serialise through their own toJSON, as JSON.stringify would. */
function hasToJson(value: unknown): value is { toJSON(): unknown } {
  return value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

function cleanText(text: string): string {
  return toWellFormed(text).replaceAll('\u0000', REPLACEMENT_CHARACTER);
}
