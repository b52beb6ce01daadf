/** RFC 6901 JSON Pointers: parsed once at admission, resolved per device by the scheduler. */
export type ParsedPointer = readonly string[];

export class PointerError extends Error {}

/** `""` is the whole document; otherwise `/`-separated tokens with `~1` for `/` and `~0` for `~`. */
export function parsePointer(pointer: string): ParsedPointer {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PointerError(`'${pointer}' is not a JSON Pointer: it must be empty or start with '/'`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~[^01]|~$/.test(token)) throw new PointerError(`'${pointer}' has a '~' not followed by 0 or 1`);
      return token.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

/** The value the pointer names, or `undefined` when any step is missing (never throws on data). */
export function resolvePointer(document: unknown, tokens: ParsedPointer): unknown {
  let at: unknown = document;
  for (const token of tokens) {
    if (Array.isArray(at)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      at = at[Number(token)];
    } else if (at !== null && typeof at === 'object') {
      if (!Object.prototype.hasOwnProperty.call(at, token)) return undefined;
      at = (at as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return at;
}
