import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BerthError } from '../../common/errors.js';
import { JcoEngine } from '../../runtime/engine/jco/jco-engine.js';
import { fixturePath } from '../fixtures/build.js';
import { suiteTempDir } from '../support/tmp.js';

const MiB = 2 ** 20;

describe('JcoEngine', () => {
  const cacheDir = suiteTempDir('engine');
  const hello = readFileSync(fixturePath('hello'));

  it('transpiles and compiles a digest once, then serves it from memory', async () => {
    const engine = new JcoEngine({ cacheDir });
    const first = await engine.compile(hello, { memoryLimitBytes: 4 * MiB });
    const second = await engine.compile(hello, { memoryLimitBytes: 4 * MiB });
    expect(second).toBe(first);
    const stats = engine.stats();
    expect(stats.transpiles).toBe(1);
    expect(stats.compiles).toBe(Object.keys(first.artifact.modules).length);
    expect(stats.memoryHits).toBe(1);
    expect(first.maxMemoryPages).toBe(64);
    expect(readdirSync(cacheDir)).toContain(first.digest.slice('sha256:'.length));
  });

  it('a new engine over the same cache folder does not transpile again', async () => {
    const engine = new JcoEngine({ cacheDir });
    await engine.compile(hello, { memoryLimitBytes: 4 * MiB });
    expect(engine.stats()).toMatchObject({ transpiles: 0, diskHits: 1 });
  });

  it('compiles again for another memory limit, from the same transpiled files', async () => {
    const engine = new JcoEngine({ cacheDir });
    const a = await engine.compile(hello, { memoryLimitBytes: 4 * MiB });
    const b = await engine.compile(hello, { memoryLimitBytes: 8 * MiB });
    expect(a.maxMemoryPages).toBe(64);
    expect(b.maxMemoryPages).toBe(128);
    expect(engine.stats().transpiles).toBe(0);
  });

  it('refuses a malformed component before transpiling, and a memory limit under one page', async () => {
    const engine = new JcoEngine({ cacheDir: join(cacheDir, 'other') });
    await expect(engine.compile(new Uint8Array([1, 2, 3]), { memoryLimitBytes: MiB })).rejects.toThrow(BerthError);
    await expect(async () => engine.compile(hello, { memoryLimitBytes: 1000 })).rejects.toThrow(/below one 64 KiB page/);
    expect(engine.stats().transpiles).toBe(0);
  });

  it('reports a component the transpiler refuses as malformed, not as a crash', async () => {
    // A valid header and an import section whose declared instance type index does not exist.
    const bogus = Uint8Array.of(0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 10, 6, 1, 0, 1, 0x61, 5, 9);
    const engine = new JcoEngine({ cacheDir: join(cacheDir, 'bogus') });
    const err = await engine.compile(bogus, { memoryLimitBytes: MiB }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe('malformed-component');
    expect((err as BerthError).message).toMatch(/refused by the transpiler/);
  });
});

describe('JcoEngine under concurrency', () => {
  it('compiles several different components at once, each transpiled exactly once', async () => {
    const engine = new JcoEngine({ cacheDir: suiteTempDir('engine-concurrent') });
    const names = ['hello', 'spin', 'trap', 'membomb', 'hello', 'spin'];
    const compiled = await Promise.all(names.map((n) => engine.compile(readFileSync(fixturePath(n)), { memoryLimitBytes: 4 * MiB })));
    expect(new Set(compiled.map((c) => c.digest)).size).toBe(4);
    expect(compiled[4]).toBe(compiled[0]);
    expect(engine.stats().transpiles).toBe(4);
  });
});

describe('names that try to break out of the generated glue', () => {
  // The glue is JavaScript generated from the component's names; a name that is not a valid
  // component-model identifier must be refused before any code is generated from it.
  // Every occurrence is patched (core export, alias, component export), so that the name is
  // the only thing wrong with the component.
  const patched = (from: string, to: string) => {
    const bytes = Buffer.from(readFileSync(fixturePath('hello')));
    let at = -1;
    let count = 0;
    while ((at = bytes.indexOf(Buffer.from(from), at + 1)) !== -1) count += Buffer.from(to).copy(bytes, at) && 1;
    expect(count).toBeGreaterThan(0);
    return new Uint8Array(bytes);
  };

  for (const [what, from, to] of [
    ['an export name with a quote', 'add', "a'd"],
    ['an export name with a brace', 'add', 'a}d'],
    ['an import name with a quote and a paren', 'berth:host/log@', "berth:host/l')@"],
  ] as const) {
    it(`refuses ${what}`, async () => {
      const engine = new JcoEngine({ cacheDir: suiteTempDir('inject') });
      const err = await engine.compile(patched(from, to), { memoryLimitBytes: MiB }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BerthError);
      expect((err as BerthError).code).toBe('malformed-component');
      expect((err as BerthError).message).toMatch(/is not a valid import or export name/);
      expect(engine.stats().transpiles).toBe(0);
    });
  }

  it('the transpiler refuses such names too, should one ever get past the reader', async () => {
    const { transpile } = await import('@bytecodealliance/jco');
    await expect(transpile(patched('add', "a'd"), { name: 'x', instantiation: 'sync', noTypescript: true })).rejects.toSatisfy((e: unknown) =>
      /not a valid extern name/.test(String((e as { payload?: unknown }).payload ?? e)),
    );
  });
});
