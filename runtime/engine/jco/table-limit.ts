import { BerthError } from '../../../common/errors.js';
import { encodeLeb, ModuleReader, rewriteSections } from '../core-wasm/module-bytes.js';

/**
 * Caps the Wasm tables of a component's core modules. V8 keeps a table's entries on the JavaScript
 * heap of the thread, and grows a table by copying it whole: a guest that grows a table towards
 * V8's own ceiling (10 million entries) makes one allocation larger than the thread's heap limit,
 * and Node ends the whole process for that, not only the worker (docs/hostile.md, "Heap").
 *
 * So every table gets a maximum before compiling, out of one budget for the whole app:
 * tables that declare a maximum within the budget keep it (compilers emit `min = max` for the
 * indirect-function table), the others share what is left, and the sum the instantiated modules
 * could reach is checked again at instantiation (table-budget.ts), since a component may
 * instantiate one module several times.
 */

/** All tables of one app instance together, in entries: ~34× what StarlingMonkey declares. */
export const TABLE_ENTRIES_PER_APP = 262_144;

const SECTION_IMPORT = 2;
const SECTION_TABLE = 4;

/** How a component's tables are capped: its budget and what each table without a fitting maximum gets. */
export interface TableCap {
  budget: number;
  /** The maximum given to a table that declares none, or one above the budget. */
  open: number;
}

interface TableType {
  initial: bigint;
  max?: bigint;
}

function bad(reason: string): BerthError {
  return new BerthError('malformed-component', `cannot apply the table limit: ${reason}`);
}

/** Reads a reference type (funcref, externref, or a typed `(ref null? ht)`) and copies it. */
function copyRefType(r: ModuleReader, out: number[]): void {
  const start = r.pos;
  const type = r.byte();
  if (type === 0x63 || type === 0x64) r.leb(); // (ref null ht) / (ref ht): a heap type, s33
  out.push(...r.bytes.subarray(start, r.pos));
}

/** Reads one table type's limits; flags 0x04/0x05 are 64-bit tables (same shape). */
function readLimits(r: ModuleReader): TableType & { flags: number } {
  const flags = r.byte();
  if ((flags & ~0x05) !== 0) throw bad(`unknown table limits flags ${flags}`);
  const initial = r.leb();
  return flags & 0x01 ? { flags, initial, max: r.leb() } : { flags, initial };
}

/** Rewrites one table type's limits with the maximum `cap` gives it; the capped maximum. */
function rewriteLimits(r: ModuleReader, out: number[], cap: (t: TableType) => bigint): bigint {
  const { flags, initial, max } = readLimits(r);
  const capped = cap({ initial, max });
  if (initial > capped) {
    throw new BerthError('table-limit', `the component needs a table of ${initial} entries at start, over its limit of ${capped} entries`);
  }
  out.push(flags | 0x01, ...encodeLeb(initial), ...encodeLeb(capped));
  return capped;
}

function fits(t: TableType, budget: number): boolean {
  return t.max !== undefined && t.max <= BigInt(budget);
}

/** Visits every table this module defines (section 4), in order, as read. */
function definedTables(module: Uint8Array): TableType[] {
  const tables: TableType[] = [];
  rewriteSections(
    module,
    [SECTION_TABLE],
    (_, body) => {
      const r = new ModuleReader(body, 0, bad);
      const count = r.leb();
      for (let i = 0n; i < count; i++) {
        if (body[r.pos] === 0x40) throw bad('tables with an initialiser expression are not supported');
        copyRefType(r, []);
        tables.push(readLimits(r));
      }
      return body;
    },
    bad,
  );
  return tables;
}

/**
 * The cap for a component from all its core modules: the tables that declare a maximum within
 * the budget keep it, the rest share what remains evenly. Refused when the declared maxima
 * alone are over the budget.
 */
export function planTableCap(modules: Uint8Array[], budget = TABLE_ENTRIES_PER_APP): TableCap {
  let fixed = 0n;
  let open = 0;
  for (const table of modules.flatMap(definedTables)) {
    if (fits(table, budget)) fixed += table.max!;
    else open++;
  }
  if (fixed > BigInt(budget))
    throw new BerthError('table-limit', `the component's tables declare ${fixed} entries in all, over the limit of ${budget} entries`);
  const left = budget - Number(fixed);
  return { budget, open: open === 0 ? left : Math.floor(left / open) };
}

/**
 * Gives every table of a core module (defined or imported) a maximum within `cap`, and says how
 * many entries its own tables can reach together (what an instance of it may cost).
 */
export function capTables(module: Uint8Array, cap: TableCap): { bytes: Uint8Array; entries: number } {
  let entries = 0n;
  const defined = (t: TableType) => (fits(t, cap.budget) ? t.max! : BigInt(cap.open));
  // An imported table is another module's (counted there); its type only has to admit it.
  const imported = (t: TableType) => (fits(t, cap.budget) ? t.max! : BigInt(cap.budget));
  const bytes = rewriteSections(
    module,
    [SECTION_IMPORT, SECTION_TABLE],
    (id, body) => {
      const r = new ModuleReader(body, 0, bad);
      const out: number[] = [];
      const count = r.leb();
      out.push(...encodeLeb(count));
      for (let i = 0n; i < count; i++) {
        if (id === SECTION_TABLE) {
          if (body[r.pos] === 0x40) throw bad('tables with an initialiser expression are not supported');
          copyRefType(r, out);
          entries += rewriteLimits(r, out, defined);
          continue;
        }
        if (copyImportUntilTable(r, out)) {
          copyRefType(r, out);
          rewriteLimits(r, out, imported);
        }
      }
      if (r.pos !== body.length) throw bad('trailing bytes in a section');
      return Uint8Array.from(out);
    },
    bad,
  );
  return { bytes, entries: Number(entries) };
}

/**
 * Copies one import up to its type; true when it is a table (its type left to read), false when
 * the whole import was copied.
 */
function copyImportUntilTable(r: ModuleReader, out: number[]): boolean {
  const start = r.pos;
  r.name();
  r.name();
  const kind = r.byte();
  if (kind === 0x01) {
    out.push(...r.bytes.subarray(start, r.pos));
    return true;
  }
  if (kind === 0x00) r.leb();
  else if (kind === 0x02) {
    const flags = r.byte();
    r.leb();
    if (flags & 0x01) r.leb();
  } else if (kind === 0x03) {
    copyRefType(r, []); // a global's value type is a single byte or a typed reference
    r.byte();
  } else if (kind === 0x04) {
    r.byte();
    r.leb();
  } else throw bad(`unknown import kind ${kind}`);
  out.push(...r.bytes.subarray(start, r.pos));
  return false;
}
