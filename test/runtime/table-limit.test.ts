import { describe, expect, it } from 'vitest';
import { parse } from '@bytecodealliance/jco';
import { capTables, planTableCap } from '../../runtime/engine/jco/table-limit.js';
import { CoreBudget, MAX_CORE_INSTANCES } from '../../runtime/engine/jco/core-budget.js';
import { patchGlue } from '../../runtime/engine/jco/glue-patch.js';
import { MAX_LIST_ELEMENTS } from '../../runtime/engine/value-limits.js';

const tableModule = (tables: string) =>
  parse(`(module ${tables}
    (func (export "grow") (param i32) (result i32) (table.grow 0 (ref.null func) (local.get 0)))
    (func (export "size") (result i32) (table.size 0)))`);

function instantiate(bytes: Uint8Array, imports: WebAssembly.Imports = {}) {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports as { grow(n: number): number; size(): number };
}

describe('table caps', () => {
  it('a table without a maximum gets the budget; table.grow past it fails in the guest', async () => {
    const module = await tableModule('(table 1 funcref)');
    const cap = planTableCap([module], 1_000);
    expect(cap).toEqual({ budget: 1_000, open: 1_000 });
    const { bytes, entries } = capTables(module, cap);
    expect(entries).toBe(1_000);
    const table = instantiate(bytes);
    expect(table.grow(999)).toBe(1);
    expect(table.grow(1)).toBe(-1);
  });

  it('declared maxima within the budget are kept, and open tables share what they leave', async () => {
    const bounded = await tableModule('(table 10 300 funcref)');
    const open = await tableModule('(table 1 funcref) (table 1 externref)');
    const cap = planTableCap([bounded, open], 1_000);
    expect(cap.open).toBe(350);
    expect(capTables(bounded, cap).entries).toBe(300);
    expect(capTables(open, cap).entries).toBe(700);
    expect(instantiate(capTables(open, cap).bytes).grow(350)).toBe(-1);
  });

  it('refuses a table whose initial size is over the limit, and declared maxima over the budget', async () => {
    const big = await tableModule('(table 2000 funcref)');
    expect(() => capTables(big, planTableCap([big], 1_000))).toThrow(/table of 2000 entries at start, over its limit of 1000 entries/);
    const two = await tableModule('(table 600 600 funcref) (table 600 600 funcref)');
    expect(() => planTableCap([two], 1_000)).toThrow(/declare 1200 entries in all, over the limit of 1000 entries/);
  });

  it('gives an imported table without a maximum one, so that it still links to a capped table', async () => {
    const importer = await parse('(module (import "env" "t" (table 1 funcref)) (func (export "size") (result i32) (table.size 0)))');
    const { bytes, entries } = capTables(importer, { budget: 1_000, open: 1_000 });
    expect(entries).toBe(0);
    const t = new (WebAssembly as unknown as { Table: new (d: object) => object }).Table({ element: 'anyfunc', initial: 1, maximum: 500 });
    expect((new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { t } }).exports as { size(): number }).size()).toBe(1);
  });
});

describe('core budget', () => {
  it('sums the tables of every core instance, so one module instantiated again and again is refused', () => {
    const module = new WebAssembly.Module(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
    const budget = new CoreBudget({ m: module }, { tableEntries: { m: 400 }, tableBudget: 1_000, memoryPages: {}, memoryBudget: 1 });
    budget.admit(module);
    budget.admit(module);
    expect(() => budget.admit(module)).toThrow(/grow their tables to 1200 entries in all, over the limit of 1000/);
  });

  it('counts core instances', () => {
    const module = new WebAssembly.Module(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
    const budget = new CoreBudget({ m: module }, { tableEntries: { m: 0 }, tableBudget: 1_000, memoryPages: {}, memoryBudget: 1 });
    for (let i = 0; i < MAX_CORE_INSTANCES; i++) budget.admit(module);
    expect(() => budget.admit(module)).toThrow(`the component instantiates more than ${MAX_CORE_INSTANCES} core instances`);
  });
});

describe('glue patch', () => {
  it('refuses resource tables of a shape it was not written for, rather than run them unbounded', () => {
    expect(patchGlue('const x = 1;')).toBe('const x = 1;');
    expect(() => patchGlue('function rscTableCreateOwn(table, rep) { table.push(rep); }')).toThrow(/cannot put a ceiling on/);
    expect(() => patchGlue('var r = new Array(len1); for (let i = 0; i < len1; i++) { r[i] = i; }')).toThrow(/list lifting Berth cannot put a ceiling on/);
  });

  it('checks a lifted list length before the glue allocates for it', () => {
    const lift = 'var result1 = [];\nfor (let i = 0; i < len1; i++) {\n  const base = base1 + i * 8;\n  result1.push(base);\n}\nreturn result1;';
    const run = (len1: number) => new Function('len1', 'base1', patchGlue(lift))(len1, 0) as number[];
    expect(run(3)).toEqual([0, 8, 16]);
    expect(() => run(MAX_LIST_ELEMENTS + 1)).toThrow(`a list of ${MAX_LIST_ELEMENTS + 1} elements is over the limit of ${MAX_LIST_ELEMENTS}`);
  });

  it("makes jco's debug log a no-op, so no call across the component boundary reads the process environment", () => {
    // As jco 1.35 writes it; it ran several times per host call and was 15% of an HTTP request.
    const helper =
      "const _debugLog = (...args) => {\n    if (!globalThis?.process?.env?.JCO_DEBUG) { return; }\n    console.debug(...args);\n  };\n_debugLog('x', 1);";
    const patched = patchGlue(helper);
    expect(patched).not.toContain('process?.env');
    const previous = process.env.JCO_DEBUG;
    const debug = console.debug;
    const printed: unknown[] = [];
    process.env.JCO_DEBUG = '1';
    console.debug = (...args: unknown[]) => void printed.push(args);
    try {
      new Function(patched)();
      expect(printed).toEqual([]);
      new Function(helper)();
      expect(printed).toEqual([['x', 1]]); // the unpatched helper would print
    } finally {
      console.debug = debug;
      if (previous === undefined) delete process.env.JCO_DEBUG;
      else process.env.JCO_DEBUG = previous;
    }
  });
});
