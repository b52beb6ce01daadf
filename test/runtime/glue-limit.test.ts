import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco';
import { JcoEngine, MAX_GLUE_BYTES } from '../../runtime/engine/jco/jco-engine.js';
import { suiteTempDir } from '../support/tmp.js';

/**
 * A small component whose glue is not small: a tuple type nested `depth` levels (each level two
 * of the one below) taken by `functions` exported functions. jco writes the lowering code of the
 * type out in full for each, so the glue doubles per level while the component grows by a line.
 */
async function nestedTuples(depth: number, functions: number): Promise<Uint8Array> {
  const levels = Array.from({ length: depth }, (_, d) => `  type t${d + 1} = tuple<t${d}, t${d}>;`);
  const funcs = Array.from({ length: functions }, (_, f) => `  f${f}: func(x: t${depth});`);
  const wit = ['package t:t;', 'interface i {', '  type t0 = tuple<u8, u8>;', ...levels, ...funcs, '}', 'world w { export i; }'].join('\n');
  const exports = Array.from({ length: functions }, (_, f) => `(func (export "t:t/i#f${f}") (param i32))`).join(' ');
  const core = await parse(
    `(module (memory (export "memory") 1) (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0)) ${exports})`,
  );
  return componentNew(await componentEmbed({ binary: core, witSource: wit, world: 'w' }));
}

describe('the size of the glue jco makes', () => {
  it('is refused past its limit, whatever the size of the component, before anything is cached', async () => {
    const bytes = await nestedTuples(14, 2);
    expect(bytes.length).toBeLessThan(4_096);
    const cacheDir = suiteTempDir('glue-limit');
    const engine = new JcoEngine({ cacheDir });
    const err = await engine.compile(bytes, { memoryLimitBytes: 2 ** 20 }).then(
      () => new Error('compiled'),
      (e: unknown) => e as Error,
    );
    // Only the code and message are compared: a compiled component this large is no thing to print.
    expect((err as { code?: string }).code).toBe('glue-limit');
    expect(err.message).toMatch(new RegExp(`produced 8\\.\\d MiB of glue, over the limit of ${MAX_GLUE_BYTES / 2 ** 20} MiB`));
    expect(readdirSync(cacheDir)).toEqual([]);
  }, 120_000);
});
