import { describe, expect, it } from 'vitest';
import { parse } from '@bytecodealliance/jco';
import { capMemory } from '../../runtime/engine/core-wasm/memory-limit.js';

const growModule = (memory: string) =>
  parse(`(module ${memory}
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "size") (result i32) (memory.size)))`);

function instantiate(bytes: Uint8Array, imports: WebAssembly.Imports = {}) {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports as { grow(n: number): number; size(): number };
}

describe('capMemory', () => {
  it('caps a memory declared without a maximum: memory.grow fails inside the guest', async () => {
    const capped = capMemory(await growModule('(memory 1)'), 4);
    const e = instantiate(capped);
    expect(e.grow(3)).toBe(1);
    expect(e.grow(1)).toBe(-1);
    expect(e.size()).toBe(4);
  });

  it('lowers a larger declared maximum and keeps a smaller one', async () => {
    expect(instantiate(capMemory(await growModule('(memory 1 1000)'), 2)).grow(2)).toBe(-1);
    const small = instantiate(capMemory(await growModule('(memory 1 2)'), 10));
    expect(small.grow(1)).toBe(1);
    expect(small.grow(1)).toBe(-1);
  });

  it('caps an imported memory too', async () => {
    const bytes = capMemory(await growModule('(import "env" "mem" (memory 1))'), 3);
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
    expect(imports[0]!.kind).toBe('memory');
    // A memory without a maximum no longer satisfies the capped import.
    expect(() => instantiate(bytes, { env: { mem: new WebAssembly.Memory({ initial: 1 }) } })).toThrow();
    const e = instantiate(bytes, { env: { mem: new WebAssembly.Memory({ initial: 1, maximum: 3 }) } });
    expect(e.grow(2)).toBe(1);
    expect(e.grow(1)).toBe(-1);
  });

  it('refuses a module whose initial memory is above the cap, naming the sizes', async () => {
    const bytes = await growModule('(memory 100)');
    expect(() => capMemory(bytes, 16)).toThrow(/100 pages .* limit of 16 pages \(1 MiB\)/);
  });

  it('leaves every other section byte for byte', async () => {
    const original = await parse('(module (func (export "f") (result i32) (i32.const 7)) (memory 1 2) (data (i32.const 0) "abc"))');
    expect(Buffer.from(capMemory(original, 8)).equals(Buffer.from(original))).toBe(true);
  });
});
