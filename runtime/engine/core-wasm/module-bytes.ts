/**
 * Reading and re-writing a core module's sections, for the limits written into a module before
 * it is compiled (memory-limit.ts, table-limit.ts). Bounds-checked; every failure is the caller's
 * error (`bad`), so a malformed module is refused with the limit's own message.
 */
export class ModuleReader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    private readonly bad: (reason: string) => Error,
  ) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw this.bad('unexpected end of module');
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
    throw this.bad('invalid LEB128');
  }
  skip(n: number): void {
    if (n > this.bytes.length - this.pos) throw this.bad('section runs past the end');
    this.pos += n;
  }
  name(): void {
    this.skip(Number(this.leb()));
  }
}

export function encodeLeb(value: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(value & 0x7fn);
    value >>= 7n;
    if (value !== 0n) b |= 0x80;
    out.push(b);
  } while (value !== 0n);
  return out;
}

/**
 * The module with the bodies of the sections `ids` replaced by what `rewrite` returns for them;
 * every other byte is copied as it is.
 */
export function rewriteSections(
  module: Uint8Array,
  ids: number[],
  rewrite: (id: number, body: Uint8Array) => Uint8Array,
  bad: (reason: string) => Error = (r) => new Error(r),
): Uint8Array {
  if (module.length < 8 || module[0] !== 0 || module[1] !== 0x61 || module[2] !== 0x73 || module[3] !== 0x6d) throw bad('not a core module');
  const parts: Uint8Array[] = [module.subarray(0, 8)];
  for (const s of sectionsOf(module, bad)) {
    if (ids.includes(s.id)) {
      const rewritten = rewrite(s.id, module.subarray(s.start, s.end));
      parts.push(Uint8Array.of(s.id, ...encodeLeb(BigInt(rewritten.length))), rewritten);
    } else {
      parts.push(module.subarray(s.head, s.end));
    }
  }
  return concatBytes(parts);
}

/** The parts in one new Uint8Array of its own (never a view into Node's shared buffer pool). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const result = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    result.set(p, offset);
    offset += p.length;
  }
  return result;
}

/** One section of a module or component: its id, where its id byte is, and its body's bounds. */
export interface Section {
  id: number;
  head: number;
  start: number;
  end: number;
}

/** The sections after the 8-byte preamble of a core module or a component (same framing). */
export function sectionsOf(bytes: Uint8Array, bad: (reason: string) => Error): Section[] {
  const r = new ModuleReader(bytes, 8, bad);
  const out: Section[] = [];
  while (r.pos < bytes.length) {
    const head = r.pos;
    const id = r.byte();
    const size = Number(r.leb());
    const start = r.pos;
    r.skip(size);
    out.push({ id, head, start, end: start + size });
  }
  return out;
}
