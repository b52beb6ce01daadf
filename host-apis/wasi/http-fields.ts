/**
 * `wasi:http/types.fields`: an ordered multimap of header names to byte values.
 *
 * Names are tokens (RFC 9110) compared case-insensitively; values are bytes without CR, LF or
 * NUL. Forbidden names (the spec leaves the list to the host) are the ones that describe the
 * connection rather than the message: the host sets them itself, so a guest cannot smuggle a
 * second request or retarget one through them. Setting one is `forbidden`; changing a locked
 * fields (a request's or response's headers) is `immutable`.
 */
import { fail } from './result.js';

export type HeaderError = { tag: 'invalid-syntax' } | { tag: 'forbidden' } | { tag: 'immutable' };

export const FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'host',
  'http2-settings',
]);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Bound on one fields' total size, so a guest cannot grow host memory through headers. */
export const MAX_FIELDS_BYTES = 64 * 1024;

export type FieldEntry = [string, Uint8Array];

function checkName(name: string): string {
  if (typeof name !== 'string' || !TOKEN.test(name)) fail<HeaderError>({ tag: 'invalid-syntax' });
  const lower = name.toLowerCase();
  if (FORBIDDEN_HEADERS.has(lower)) fail<HeaderError>({ tag: 'forbidden' });
  return lower;
}

function checkValue(value: Uint8Array): Uint8Array {
  if (!(value instanceof Uint8Array)) fail<HeaderError>({ tag: 'invalid-syntax' });
  for (const b of value) if (b === 0x0a || b === 0x0d || b === 0x00) fail<HeaderError>({ tag: 'invalid-syntax' });
  return value.slice();
}

export class Fields {
  #entries: FieldEntry[] = [];
  #locked = false;

  static fromList(entries: [string, Uint8Array][]): Fields {
    const fields = new Fields();
    for (const [name, value] of entries) fields.append(name, value);
    return fields;
  }

  get(name: string): Uint8Array[] {
    const lower = String(name).toLowerCase();
    return this.#entries.filter(([n]) => n === lower).map(([, v]) => v.slice());
  }

  has(name: string): boolean {
    const lower = String(name).toLowerCase();
    return this.#entries.some(([n]) => n === lower);
  }

  set(name: string, values: Uint8Array[]): void {
    this.#mutable();
    const lower = checkName(name);
    const checked = values.map(checkValue);
    this.#entries = this.#entries.filter(([n]) => n !== lower);
    for (const v of checked) this.#add(lower, v);
  }

  delete(name: string): void {
    this.#mutable();
    const lower = checkName(name);
    this.#entries = this.#entries.filter(([n]) => n !== lower);
  }

  append(name: string, value: Uint8Array): void {
    this.#mutable();
    this.#add(checkName(name), checkValue(value));
  }

  entries(): [string, Uint8Array][] {
    return this.#entries.map(([n, v]) => [n, v.slice()]);
  }

  clone(): Fields {
    const copy = new Fields();
    copy.#entries = this.entries();
    return copy;
  }

  #mutable(): void {
    if (this.#locked) fail<HeaderError>({ tag: 'immutable' });
  }

  #add(name: string, value: Uint8Array): void {
    const size = this.#entries.reduce((sum, [n, v]) => sum + n.length + v.byteLength, 0);
    if (size + name.length + value.byteLength > MAX_FIELDS_BYTES) fail<HeaderError>({ tag: 'invalid-syntax' });
    this.#entries.push([name, value]);
  }

  /** @internal A locked copy: what a request or response keeps of the fields it was given. */
  static locked(from: Fields | FieldEntry[]): Fields {
    const copy = new Fields();
    copy.#entries = Array.isArray(from) ? from.map(([n, v]) => [n.toLowerCase(), v.slice()]) : from.entries();
    copy.#locked = true;
    return copy;
  }
}
