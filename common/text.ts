/**
 * Well-formed text. JavaScript strings are UTF-16 and may hold lone surrogates (half of a pair,
 * from a careless cut or hostile JSON such as "\udc00"); UTF-8, PostgreSQL and most peers cannot
 * carry them. Both sides of Berth cut and clean text through these helpers so that whatever one
 * side writes, the other (and the store) can hold.
 */

/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export const REPLACEMENT_CHARACTER = '\uFFFD';

export function isWellFormed(text: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  return !LONE_SURROGATE.test(text);
}

/** The text with every lone surrogate replaced by U+FFFD (what a UTF-8 encoder would write). */
export function toWellFormed(text: string): string {
  return isWellFormed(text) ? text : text.replace(LONE_SURROGATE, REPLACEMENT_CHARACTER);
}

/**
 * At most `maxUnits` UTF-16 code units of `text`, cut on a code-point boundary: a surrogate pair
 * is kept whole or left out, never split. `marker` (e.g. '…') is appended when something was cut,
 * and counts towards the limit.
 */
export function truncateText(text: string, maxUnits: number, marker = ''): string {
  if (text.length <= maxUnits) return text;
  let end = Math.max(0, maxUnits - marker.length);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + marker;
}

/**
 * The last `maxUnits` code units of `text` (a tail of output), never starting in the middle of a
 * surrogate pair.
 */
export function tailText(text: string, maxUnits: number): string {
  if (text.length <= maxUnits) return text;
  let start = text.length - maxUnits;
  const first = text.charCodeAt(start);
  if (first >= 0xdc00 && first <= 0xdfff) start += 1;
  return text.slice(start);
}

/** A copy of a JSON-shaped value with every string (keys too) made well-formed, at any depth. */
export function wellFormedJson<T>(value: T): T {
  if (typeof value === 'string') return toWellFormed(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => wellFormedJson(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [toWellFormed(k), wellFormedJson(v)])) as T;
  }
  return value;
}
