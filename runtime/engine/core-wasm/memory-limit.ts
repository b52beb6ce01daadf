import { BerthError } from '../../../common/errors.js';
import { encodeLeb as leb, ModuleReader, rewriteSections } from './module-bytes.js';

/**
 * Caps every linear memory of a core module (64 KiB pages) by rewriting the maximum in its
 * memory and import sections before it is compiled; how much each memory gets out of the app's
 * one budget is memory-budget.ts's decision. V8 then refuses
 * `memory.grow` past the cap inside the guest; worker `resourceLimits` would not, because
 * Wasm memory lives outside the JS heap.
 *
 * Only sections 2 (import) and 5 (memory) are rewritten; all other bytes are copied as they are.
 */
export const WASM_PAGE = 65536;

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;

function bad(reason: string): BerthError {
  return new BerthError('malformed-component', `cannot apply the memory limit: ${reason}`);
}

/** Re-encodes one memory type with the maximum capped; refuses a minimum above the cap. */
function cappedLimits(r: ModuleReader, maxPages: number, out: number[]): void {
  if (maxPages < 0) throw bad('more memories than the plan counted');
  const flags = r.byte();
  const hasMax = (flags & 0x01) !== 0;
  const min = r.leb();
  const max = hasMax ? r.leb() : undefined;
  if (min > BigInt(maxPages)) {
    throw new BerthError(
      'memory-limit',
      `the component needs ${min} pages of memory at start, over its limit of ${maxPages} pages (${(maxPages * WASM_PAGE) / 2 ** 20} MiB)`,
    );
  }
  const cap = max === undefined || max > BigInt(maxPages) ? BigInt(maxPages) : max;
  out.push(flags | 0x01, ...leb(min), ...leb(cap));
}

function rewriteImports(section: Uint8Array, maxPages: number): Uint8Array {
  const r = new ModuleReader(section, 0, bad);
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

function skipLimits(r: ModuleReader): void {
  const flags = r.byte();
  r.leb();
  if (flags & 0x01) r.leb();
}

function rewriteMemories(section: Uint8Array, maxPages: number, definedMaxima?: readonly number[]): Uint8Array {
  const r = new ModuleReader(section, 0, bad);
  const out: number[] = [];
  const count = r.leb();
  out.push(...leb(count));
  for (let i = 0; i < Number(count); i++) cappedLimits(r, definedMaxima ? (definedMaxima[i] ?? -1) : maxPages, out);
  if (r.pos !== section.length) throw bad('trailing bytes in the memory section');
  return Uint8Array.from(out);
}

/**
 * Caps the memories of one core module: an imported one at `maxPages` (it is another module's,
 * capped there), and the memories it defines at `definedMaxima` in order (memory-budget.ts), or
 * each at `maxPages` when none are given.
 */
export function capMemory(module: Uint8Array, maxPages: number, definedMaxima?: readonly number[]): Uint8Array {
  return rewriteSections(
    module,
    [SECTION_IMPORT, SECTION_MEMORY],
    (id, body) => (id === SECTION_IMPORT ? rewriteImports(body, maxPages) : rewriteMemories(body, maxPages, definedMaxima)),
    bad,
  );
}

/** The limits of every memory a core module defines (section 5), in order, as read. */
export function definedMemories(module: Uint8Array): { initial: bigint; max?: bigint }[] {
  const memories: { initial: bigint; max?: bigint }[] = [];
  rewriteSections(
    module,
    [SECTION_MEMORY],
    (_, body) => {
      const r = new ModuleReader(body, 0, bad);
      const count = r.leb();
      for (let i = 0n; i < count; i++) {
        const flags = r.byte();
        const initial = r.leb();
        memories.push(flags & 0x01 ? { initial, max: r.leb() } : { initial });
      }
      return body;
    },
    bad,
  );
  return memories;
}
