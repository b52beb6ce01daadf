import { describe, expect, it } from 'vitest';
import { parse } from '@bytecodealliance/jco';
import { capMemory } from '../../runtime/engine/core-wasm/memory-limit.js';
import { memoryPagesOf, planMemoryCap } from '../../runtime/engine/core-wasm/memory-budget.js';
import { CoreBudget } from '../../runtime/engine/jco/core-budget.js';

const withMemories = (...memories: string[]) =>
  parse(`(module ${memories.map((m) => `(memory ${m})`).join(' ')}
    (func (export "grow") (param i32) (result i32) (memory.grow 0 (local.get 0))))`);

describe('planMemoryCap: one memory budget for all the core modules of an app', () => {
  it('gives a lone memory without a maximum the whole budget, as before', async () => {
    expect(planMemoryCap({ main: await withMemories('1') }, 1024).maxima).toEqual({ main: [1024] });
  });

  it('shares the budget among memories without a maximum, each keeping its initial size', async () => {
    const cap = planMemoryCap({ a: await withMemories('1'), b: await withMemories('10'), c: await withMemories('1', '1') }, 100);
    // 13 pages at start, 87 to share among 4: 21 or 22 each (what rounding leaves goes to the next).
    expect(cap.maxima).toEqual({ a: [22], b: [32], c: [23, 23] });
    const total = Object.keys(cap.maxima).reduce((sum, name) => sum + memoryPagesOf(cap, name), 0);
    expect(total).toBe(100);
  });

  it('keeps declared maxima that fit, and the memories without one share what they leave', async () => {
    const cap = planMemoryCap({ main: await withMemories('1'), adapter: await withMemories('1 2'), tiny: await withMemories('0 0') }, 64);
    expect(cap.maxima).toEqual({ main: [62], adapter: [2], tiny: [0] });
  });

  it('treats a declared maximum above the budget as none, and shrinks declared maxima that do not fit together', async () => {
    expect(planMemoryCap({ a: await withMemories('1 65536') }, 64).maxima).toEqual({ a: [64] });
    // Two memories declaring the whole limit each (two modules built for it, composed): half each.
    expect(planMemoryCap({ a: await withMemories('1 64'), b: await withMemories('1 64') }, 64).maxima).toEqual({ a: [32], b: [32] });
  });

  it('refuses a component whose memories need more than the limit at start, naming the total and the limit', async () => {
    const modules = { a: await withMemories('20'), b: await withMemories('20'), c: await withMemories('30') };
    expect(() => planMemoryCap(modules, 64)).toThrow(
      "the component's 3 memories need 70 pages (4.375 MiB) at start in all, over its memory limit of 64 pages (4 MiB)",
    );
  });

  it('writes each memory its own maximum: memory.grow fails inside the guest past its share', async () => {
    const modules = { a: await withMemories('1'), b: await withMemories('1') };
    const cap = planMemoryCap(modules, 10);
    const grow = (name: 'a' | 'b') =>
      (new WebAssembly.Instance(new WebAssembly.Module(capMemory(modules[name], cap.budget, cap.maxima[name]))).exports as { grow(n: number): number }).grow;
    const [a, b] = [grow('a'), grow('b')];
    expect(a(4)).toBe(1);
    expect(a(1)).toBe(-1);
    expect(b(4)).toBe(1);
    expect(b(1)).toBe(-1);
  });
});

describe('core budget: memories of every core instance', () => {
  it('sums the memories of each instance, so one module instantiated again and again is refused', () => {
    const module = new WebAssembly.Module(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
    const budget = new CoreBudget({ m: module }, { tableEntries: {}, tableBudget: 1, memoryPages: { m: 400 }, memoryBudget: 1_024 });
    budget.admit(module);
    budget.admit(module);
    expect(() => budget.admit(module)).toThrow('could grow their memories to 1200 pages (75 MiB) in all, over its memory limit of 1024 pages (64 MiB)');
  });
});
