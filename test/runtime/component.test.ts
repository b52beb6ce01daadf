import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from '@bytecodealliance/jco';
import { sha256Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';
import { inspectComponent } from '../../runtime/component/inspect.js';
import { fixturePath } from '../fixtures/build.js';

const bytesOf = (name: string) => readFileSync(fixturePath(name));

describe('inspectComponent', () => {
  it('reports digest, size, versioned imports and exports of a WAT component', () => {
    const bytes = bytesOf('hello');
    const info = inspectComponent(bytes);
    expect(info.digest).toBe(sha256Digest(bytes));
    expect(info.size).toBe(bytes.length);
    expect(info.imports).toEqual(['berth:host/log@0.1.0']);
    expect(info.exports).toEqual(expect.arrayContaining(['add', 'berth:host/entry@0.1.0']));
  });

  it('lists every WASI interface a C command imports', () => {
    const info = inspectComponent(bytesOf('files'));
    expect(info.imports).toEqual(expect.arrayContaining(['wasi:filesystem/types@0.2.12', 'wasi:cli/environment@0.2.12', 'wasi:io/streams@0.2.12']));
    expect(info.exports).toEqual(['wasi:cli/run@0.2.12']);
  });

  const refusals: [string, () => Uint8Array, RegExp][] = [
    ['empty input', () => new Uint8Array(0), /magic/],
    ['random bytes', () => Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff), /magic/],
    ['a text file', () => new TextEncoder().encode('{"not":"wasm"}'), /magic/],
    ['a truncated component', () => bytesOf('hello').subarray(0, 40), /past the end|unexpected end/],
    ['a section size past the end', () => Uint8Array.of(0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 10, 0xff, 0xff, 0x03), /runs past the end/],
    ['an unknown section id', () => Uint8Array.of(0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 99, 0), /unknown section id 99/],
    ['an import section with a bad name tag', () => Uint8Array.of(0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 10, 3, 1, 7, 0), /extern name encoding/],
  ];
  for (const [what, make, message] of refusals) {
    it(`refuses ${what} with a named error`, () => {
      let caught: unknown;
      try {
        inspectComponent(make());
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(BerthError);
      expect((caught as BerthError).code).toBe('malformed-component');
      expect((caught as BerthError).message).toMatch(message);
    });
  }

  it('tells a core module apart from a component', async () => {
    const core = await parse('(module (func (export "f")))');
    expect(() => inspectComponent(core)).toThrow(/core WebAssembly module, not a component/);
  });
});
