import { parse, print } from '@bytecodealliance/jco';
import { describe, expect, it } from 'vitest';
import { planComponentMemory } from '../../runtime/engine/wasmtime/memory-plan.js';

// The memory budget written into a component before Wasmtime compiles it, for shapes the
// hostile fixtures (test/hostile/memory.test.ts) do not have: nested and aliased modules.
const cell = `(core module $cell (memory (export "memory") 1))`;
const nested = (instantiations: number) => `(component
  (component $inner
    ${cell}
    (core instance (instantiate $cell)))
  ${Array.from({ length: instantiations }, () => '(instance (instantiate $inner))').join('\n  ')})`;

describe('the memory plan of a component on Wasmtime', () => {
  it("caps a nested component's module and counts it once per instance of that component", async () => {
    const plan = planComponentMemory(await parse(nested(1)), 8);
    expect(plan.memories).toBe(1);
    expect(await print(plan.bytes)).toMatch(/\(memory \(;0;\) 1 8\)/);
  });

  it('refuses a nested component instantiated twice whose memories could reach twice the limit', async () => {
    const bytes = await parse(nested(2));
    expect(() => planComponentMemory(bytes, 8)).toThrow(
      "the component's core instances could grow their memories to 16 pages (1 MiB) in all, over its memory limit of 8 pages (0.5 MiB)",
    );
  });

  it('shares the limit among the memories of several modules, each keeping its declared maximum', async () => {
    const bytes = await parse(`(component
      (core module $small (memory 1 2))
      (core module $big (memory 1))
      (core instance (instantiate $small))
      (core instance (instantiate $big)))`);
    const plan = planComponentMemory(bytes, 10);
    expect(plan.memories).toBe(2);
    const text = await print(plan.bytes);
    expect(text).toMatch(/\(memory \(;0;\) 1 2\)/);
    expect(text).toMatch(/\(memory \(;0;\) 1 8\)/);
  });

  it("does not count an aliased module it cannot follow: the store's memory count (what it counted) refuses its instances", async () => {
    const bytes = await parse(`(component
      ${cell}
      (component $inner
        (alias outer 1 $cell (core module $m))
        (core instance (instantiate $m))
        (core instance (instantiate $m)))
      (instance (instantiate $inner)))`);
    const plan = planComponentMemory(bytes, 8);
    expect(plan.memories).toBe(0);
  });

  it('refuses bytes that are not a component, naming the memory limit', () => {
    expect(() => planComponentMemory(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0), 8)).toThrow('cannot apply the memory limit: not a component');
    expect(() => planComponentMemory(Uint8Array.of(0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 1, 0x7f), 8)).toThrow(/cannot apply the memory limit/);
  });
});
