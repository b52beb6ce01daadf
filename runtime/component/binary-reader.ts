import { BerthError } from '../../common/errors.js';
import { truncateText } from '../../common/text.js';

/**
 * A bounds-checked reader for the top level of a WebAssembly component binary: enough to
 * validate the preamble and list the component's imports and exports without running any of
 * the toolchain. Everything else (nested components, types, canonical functions) is skipped
 * by section size; full validation happens when the component is transpiled.
 */

export type ExternKind = 'module' | 'func' | 'value' | 'type' | 'component' | 'instance';

export interface ComponentExtern {
  /** As written in the binary, e.g. `wasi:cli/environment@0.2.3` or `add`. */
  name: string;
  kind: ExternKind;
}

export interface ComponentShape {
  imports: ComponentExtern[];
  exports: ComponentExtern[];
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const COMPONENT_VERSION = [0x0d, 0x00, 0x01, 0x00];
const CORE_MODULE_VERSION = [0x01, 0x00, 0x00, 0x00];
const SECTION_IMPORT = 10;
const SECTION_EXPORT = 11;
const MAX_SECTION_ID = 12;
const EXTERN_KINDS: ExternKind[] = ['module', 'func', 'value', 'type', 'component', 'instance'];
const SORT_KINDS: (ExternKind | 'core')[] = ['core', 'func', 'value', 'type', 'component', 'instance'];

export function malformed(reason: string): BerthError {
  return new BerthError('malformed-component', `not a valid WebAssembly component: ${reason}`, { reason });
}

/** Reads forward through `bytes` between `start` and `end`; every read past `end` is refused. */
export class Cursor {
  pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  byte(): number {
    if (this.pos >= this.end) throw malformed(`unexpected end of data at offset ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) break;
        return result;
      }
      shift += 7;
    }
    throw malformed(`invalid LEB128 u32 before offset ${this.pos}`);
  }

  /** A signed LEB128 of at most 33 bits (value types); only its extent matters here. */
  s33(): void {
    for (let i = 0; i < 5; i++) if ((this.byte() & 0x80) === 0) return;
    throw malformed(`invalid LEB128 s33 before offset ${this.pos}`);
  }

  name(): string {
    const len = this.u32();
    if (len > this.end - this.pos) throw malformed(`name of ${len} bytes runs past its section at offset ${this.pos}`);
    const slice = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(slice);
    } catch {
      throw malformed(`name at offset ${this.pos - len} is not UTF-8`);
    }
  }
}

/** The layer of a wasm binary: a component, a core module, or neither. */
export function binaryKind(bytes: Uint8Array): 'component' | 'module' | 'unknown' {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) return 'unknown';
  if (COMPONENT_VERSION.every((b, i) => bytes[4 + i] === b)) return 'component';
  if (CORE_MODULE_VERSION.every((b, i) => bytes[4 + i] === b)) return 'module';
  return 'unknown';
}

/** Refuses anything but a component binary, saying what it is instead. */
export function expectComponent(bytes: Uint8Array): void {
  const kind = binaryKind(bytes);
  if (kind === 'module') {
    throw malformed('this is a core WebAssembly module, not a component (build it with a component toolchain or `wasm-tools component new`)');
  }
  if (kind === 'unknown') throw malformed('missing the \\0asm magic and component version header');
}

export function readComponentShape(bytes: Uint8Array): ComponentShape {
  expectComponent(bytes);
  const shape: ComponentShape = { imports: [], exports: [] };
  for (const { id, body } of sections(bytes, 8, bytes.length, MAX_SECTION_ID)) {
    if (id === SECTION_IMPORT) readImports(body, shape.imports);
    else if (id === SECTION_EXPORT) readExports(body, shape.exports);
  }
  return shape;
}

export interface Section {
  id: number;
  /** A cursor over the section's contents only. */
  body: Cursor;
}

/**
 * The sections between `start` (just after a preamble) and `end`, each checked to fit inside
 * them. Component and core module binaries share this framing; `maxId` is the layer's highest id
 * and `within` names the binary for messages.
 */
export function* sections(bytes: Uint8Array, start: number, end: number, maxId: number, within = 'the file'): Generator<Section> {
  const at = new Cursor(bytes, start, end);
  while (at.pos < at.end) {
    const offset = at.pos;
    const id = at.byte();
    const size = at.u32();
    if (id > maxId) throw malformed(`unknown section id ${id} at offset ${offset}`);
    if (size > at.end - at.pos) throw malformed(`section ${id} of ${size} bytes at offset ${at.pos} runs past the end of ${within}`);
    const body = new Cursor(bytes, at.pos, at.pos + size);
    at.pos += size;
    yield { id, body };
  }
}

/**
 * Top-level names are plain kebab-case (`add`, `get-token`) or interface names
 * (`wasi:cli/environment@0.2.3`). Anything else is refused here, before a transpiler generates
 * code from it: names end up in generated JavaScript, so this is a first line against
 * injection, with the transpiler's own validation as the second.
 */
const WORD = '(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*)';
const KEBAB = `${WORD}(?:-${WORD})*`;
const PLAIN_NAME = new RegExp(`^${KEBAB}$`);
const INTERFACE_NAME = new RegExp(`^${KEBAB}:${KEBAB}(?:/${KEBAB})+(?:@[0-9]+\\.[0-9]+\\.[0-9]+(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?)?$`);

export function isValidExternName(name: string): boolean {
  return PLAIN_NAME.test(name) || INTERFACE_NAME.test(name);
}

function externName(c: Cursor): string {
  const tag = c.byte();
  if (tag !== 0x00 && tag !== 0x01) throw malformed(`unknown extern name encoding 0x${tag.toString(16)} at offset ${c.pos - 1}`);
  const start = c.pos;
  const name = c.name();
  if (tag === 0x01) c.name(); // version suffix; the name already carries the version
  if (!isValidExternName(name)) throw malformed(`${JSON.stringify(truncateText(name, 80))} at offset ${start} is not a valid import or export name`);
  return name;
}

function externDesc(c: Cursor): ExternKind {
  const tag = c.byte();
  const kind = EXTERN_KINDS[tag];
  if (!kind) throw malformed(`unknown extern kind 0x${tag.toString(16)} at offset ${c.pos - 1}`);
  if (tag === 0x00) {
    if (c.byte() !== 0x11) throw malformed(`core module import without module type at offset ${c.pos - 1}`);
    c.u32();
  } else if (tag === 0x02) {
    if (c.byte() === 0x00) c.u32();
    else c.s33();
  } else if (tag === 0x03) {
    if (c.byte() === 0x00) c.u32();
  } else {
    c.u32();
  }
  return kind;
}

function readImports(c: Cursor, out: ComponentExtern[]): void {
  const count = c.u32();
  for (let i = 0; i < count; i++) {
    const name = externName(c);
    out.push({ name, kind: externDesc(c) });
  }
  if (c.pos !== c.end) throw malformed('import section has trailing bytes');
}

function readExports(c: Cursor, out: ComponentExtern[]): void {
  const count = c.u32();
  for (let i = 0; i < count; i++) {
    const name = externName(c);
    const sortTag = c.byte();
    const sort = SORT_KINDS[sortTag];
    if (!sort) throw malformed(`unknown export sort 0x${sortTag.toString(16)} at offset ${c.pos - 1}`);
    if (sort === 'core') c.byte();
    c.u32();
    if (c.byte() === 0x01) externDesc(c);
    out.push({ name, kind: sort === 'core' ? 'module' : sort });
  }
  if (c.pos !== c.end) throw malformed('export section has trailing bytes');
}
