import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { readProducers } from '../../runtime/component/producers.js';
import { fixturePath } from '../fixtures/build.js';
import { thrownBy } from '../support/refusal.js';
import { wasm } from './support.js';

const componentizeJsVersion = (
  JSON.parse(readFileSync(join(projectRoot(), 'node_modules/@bytecodealliance/componentize-js/package.json'), 'utf8')) as { version: string }
).version;

describe('producers sections of real components', () => {
  // componentize-js writes its own producers section into the component; the StarlingMonkey
  // core module inside carries the languages and compilers it was built with.
  it('a JavaScript component (componentize-js): JavaScript, ComponentizeJS and the engine inside', () => {
    const p = readProducers(readFileSync(fixturePath('js-app')));
    expect(p.language.map((l) => l.name)).toEqual(expect.arrayContaining(['JavaScript', 'Rust', 'C11']));
    expect(p['processed-by']).toContainEqual({ name: 'ComponentizeJS', version: componentizeJsVersion });
    expect(p['processed-by'].map((t) => t.name)).toEqual(expect.arrayContaining(['wit-component', 'clang', 'rustc']));
    expect(p['processed-by'].every((t) => t.version !== '')).toBe(true);
  });

  it('a WAT component: only wit-component, which made the component, and no language', () => {
    const p = readProducers(readFileSync(fixturePath('hello')));
    expect(p.language).toEqual([]);
    expect(p['processed-by']).toEqual([{ name: 'wit-component', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) }]);
    expect(p.sdk).toEqual([]);
  });
});

describe('producers sections made by hand', () => {
  it('reads the component and every nested core module, each producer once, unknown fields read over', () => {
    const inner = wasm.coreModule(wasm.producers({ language: [['Rust', '']], 'processed-by': [['rustc', '1.88.0']], 'x-future': [['a', 'b']] }));
    const bytes = wasm.component(
      wasm.section(1, inner),
      wasm.section(1, inner),
      wasm.producers({ language: [['JavaScript', '']], sdk: [['componentize-js', '0.23.0']] }),
    );
    expect(readProducers(bytes)).toEqual({
      language: [
        { name: 'Rust', version: '' },
        { name: 'JavaScript', version: '' },
      ],
      'processed-by': [{ name: 'rustc', version: '1.88.0' }],
      sdk: [{ name: 'componentize-js', version: '0.23.0' }],
    });
  });

  it('reads a nested component', () => {
    const nested = [...wasm.component(wasm.producers({ sdk: [['wasi-sdk', '25']] }))];
    expect(readProducers(wasm.component(wasm.section(4, nested))).sdk).toEqual([{ name: 'wasi-sdk', version: '25' }]);
  });

  it('a component with no producers section has none', () => {
    expect(readProducers(wasm.component())).toEqual({ language: [], 'processed-by': [], sdk: [] });
  });
});

describe('malformed producers sections are refused, naming what is wrong', () => {
  const good = wasm.producers({ language: [['Rust', '1.0']] });
  /** The producers section's body (after its name) replaced by `body`. */
  const withBody = (body: number[]) => wasm.component(wasm.section(0, [...wasm.name('producers'), ...body]));

  const cases: [string, () => Uint8Array, RegExp][] = [
    [
      'truncated inside a field',
      () => withBody([1, ...wasm.name('language'), 1, ...wasm.name('Rust')]),
      /producers section at offset \d+: unexpected end of data/,
    ],
    [
      'a name length past the end of the section',
      () => withBody([1, ...wasm.name('language'), 1, 50, 0x52]),
      /producers section at offset \d+: name of 50 bytes runs past its section/,
    ],
    ['a field count with nothing behind it', () => withBody([0xff, 0xff, 0xff, 0xff, 0x0f]), /producers section at offset \d+: unexpected end of data/],
    [
      'a name that is not UTF-8',
      () => withBody([1, ...wasm.name('language'), 1, ...wasm.name(Uint8Array.of(0xff, 0xfe)), 0]),
      /producers section at offset \d+: name at offset \d+ is not UTF-8/,
    ],
    ['trailing bytes', () => withBody([0, 0x00, 0x00]), /producers section at offset \d+: 2 trailing bytes after 0 fields/],
    ['a bad LEB128 count', () => withBody([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), /producers section at offset \d+: invalid LEB128 u32/],
    [
      'a section size past the end of the file',
      () => Uint8Array.from([...wasm.component(), 0, 0x7f, ...wasm.name('producers')]),
      /section 0 of 127 bytes at offset \d+ runs past the end of the file/,
    ],
    [
      'a nested module section past its parent',
      () => wasm.component(wasm.section(1, [...wasm.coreModule(), 0, 0x20, 1])),
      /section 0 of 32 bytes at offset 20 runs past the end of the nested module at offset 10/,
    ],
    ['a nested module without a header', () => wasm.component(wasm.section(1, [1, 2, 3, 4, 5, 6, 7, 8])), /nested binary at offset 10 has no \\0asm header/],
    ['a core module, not a component', () => Uint8Array.from(wasm.coreModule(good)), /core WebAssembly module, not a component/],
    ['bytes that are not WebAssembly', () => new TextEncoder().encode('{"name":"berth"}'), /missing the \\0asm magic/],
    [
      'components nested past any toolchain',
      () => Array.from({ length: 40 }).reduce<Uint8Array>((inner) => wasm.component(wasm.section(4, [...inner])), wasm.component()),
      /nested more than 32 deep/,
    ],
  ];
  for (const [what, make, message] of cases) {
    it(what, () => {
      const err = thrownBy(() => readProducers(make()));
      expect(err.code).toBe('malformed-component');
      expect(err.message).toMatch(message);
    });
  }

  // Every cut of a real component and every flipped byte of a small one: a result or a named
  // refusal, never another error, a crash or a hang.
  it('every truncation of a real component and every byte flip of a hand-made one is read or refused', () => {
    const real = readFileSync(fixturePath('hello'));
    for (let end = 8; end < real.length; end += 7) expectReadOrRefused(real.subarray(0, end));
    const small = wasm.component(wasm.section(1, wasm.coreModule(good)), good);
    for (let i = 8; i < small.length; i++) {
      for (const v of [0x00, 0x7f, 0x80, 0xff]) {
        const b = Uint8Array.from(small);
        b[i] = v;
        expectReadOrRefused(b);
      }
    }
  });
});

function expectReadOrRefused(bytes: Uint8Array): void {
  try {
    readProducers(bytes);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('malformed-component');
  }
}
