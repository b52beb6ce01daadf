import { BerthError } from '../../common/errors.js';

/**
 * Caps every linear memory of a core module at `maxPages` (64 KiB pages) by rewriting the
 * maximum in its memory and import sections before it is compiled. V8 then refuses
 * `memory.grow` past the cap inside the guest; worker `resourceLimits` would not, because
 * Wasm memory lives outside the JS heap.
 *
 * Only sections 2 (import) and 5 (memory) are rewritten; all other bytes are copied as they are.
 */
export const WASM_PAGE = 65536;

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
  ) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw bad('unexpected end of module');
    return this.bytes[this.pos++]!;
  }
  leb(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw bad('invalid LEB128');
  }
  skip(n: number): void {
    if (n > this.bytes.length - this.pos) throw bad('section runs past the end');
    this.pos += n;
  }
  name(): void {
    this.skip(Number(this.leb()));
  }
}

function bad(reason: string): BerthError {
  return new BerthError('malformed-component', `cannot apply the memory limit: ${reason}`);
}

function leb(value: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(value & 0x7fn);
    value >>= 7n;
    if (value !== 0n) b |= 0x80;
    out.push(b);
  } while (value !== 0n);
  return out;
}

/** Re-encodes one memory type with the maximum capped; refuses a minimum above the cap. */
function cappedLimits(r: Reader, maxPages: number, out: number[]): void {
  const flags = r.byte();
  const hasMax = (flags & 0x01) !== 0;
  const min = r.leb();
  const max = hasMax ? r.leb() : undefined;
  if (min > BigInt(maxPages)) {
    throw new BerthError('memory-limit', `the component needs ${min} pages of memory at start, over its limit of ${maxPages} pages (${(maxPages * WASM_PAGE) / 2 ** 20} MiB)`);
  }
  const cap = max === undefined || max > BigInt(maxPages) ? BigInt(maxPages) : max;
  out.push(flags | 0x01, ...leb(min), ...leb(cap));
}

function rewriteImports(section: Uint8Array, maxPages: number): Uint8Array {
  const r = new Reader(section, 0);
  const out: number[] = [];
  const count = r.leb();
  out.push(...leb(count));
  for (let i = 0n; i < count; i++) {
    const start = r.pos;
    r.name();
    r.name();
    const kind = r.byte();
    out.push(...section.subarray(start, r.pos));
    if (kind === 0x02) {
      cappedLimits(r, maxPages, out);
      continue;
    }
    const descStart = r.pos;
    if (kind === 0x00) r.leb();
    else if (kind === 0x01) {
      r.byte();
      skipLimits(r);
    } else if (kind === 0x03) {
      r.byte();
      r.byte();
    } else if (kind === 0x04) {
      r.byte();
      r.leb();
    } else throw bad(`unknown import kind ${kind}`);
    out.push(...section.subarray(descStart, r.pos));
  }
  if (r.pos !== section.length) throw bad('trailing bytes in the import section');
  return Uint8Array.from(out);
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.leb();
  if (flags & 0x01) r.leb();
}

function rewriteMemories(section: Uint8Array, maxPages: number): Uint8Array {
  const r = new Reader(section, 0);
  const out: number[] = [];
  const count = r.leb();
  out.push(...leb(count));
  for (let i = 0n; i < count; i++) cappedLimits(r, maxPages, out);
  if (r.pos !== section.length) throw bad('trailing bytes in the memory section');
  return Uint8Array.from(out);
}

export function capMemory(module: Uint8Array, maxPages: number): Uint8Array {
  if (module.length < 8 || module[0] !== 0 || module[1] !== 0x61 || module[2] !== 0x73 || module[3] !== 0x6d) throw bad('not a core module');
  const parts: Uint8Array[] = [module.subarray(0, 8)];
  const r = new Reader(module, 8);
  while (r.pos < module.length) {
    const sectionStart = r.pos;
    const id = r.byte();
    const size = Number(r.leb());
    const start = r.pos;
    r.skip(size);
    const body = module.subarray(start, start + size);
    if (id === SECTION_IMPORT || id === SECTION_MEMORY) {
      const rewritten = id === SECTION_IMPORT ? rewriteImports(body, maxPages) : rewriteMemories(body, maxPages);
      parts.push(Uint8Array.of(id, ...leb(BigInt(rewritten.length))), rewritten);
    } else {
      parts.push(module.subarray(sectionStart, start + size));
    }
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const result = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    result.set(p, offset);
    offset += p.length;
  }
  return result;
}
