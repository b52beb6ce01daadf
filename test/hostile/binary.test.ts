import { parse } from '@bytecodealliance/jco';
import { describe, expect, it } from 'vitest';
import { BerthError } from '../../common/errors.js';
import { bytes, hostileBench } from './support.js';

/** Hostile binaries: refused before anything runs, whatever the tier. */
describe('hostile binaries', () => {
  const bench = hostileBench('binary');
  const refusal = async (component: Uint8Array) => {
    const err = await bench.runtime.startApp(component, { vendor: 'mallory', app: 'binary', grants: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    return err as BerthError;
  };

  it('a malformed component: truncated, garbage, a core module', async () => {
    await bench.whileNeighbourAnswers(async () => {
      // Cut inside a section (a cut exactly between sections would leave a valid, empty component).
      expect((await refusal(bytes('hello').subarray(0, 150))).code).toBe('malformed-component');
      expect((await refusal(Uint8Array.from({ length: 4096 }, (_, i) => (i * 131) & 0xff))).code).toBe('malformed-component');
      expect((await refusal(await parse('(module)'))).message).toMatch(/core WebAssembly module, not a component/);
    });
  });

  it('names crafted to inject code into the generated glue', async () => {
    const patched = (from: string, to: string) => {
      const b = Buffer.from(bytes('hello'));
      let at = -1;
      while ((at = b.indexOf(Buffer.from(from), at + 1)) !== -1) Buffer.from(to).copy(b, at);
      return new Uint8Array(b);
    };
    await bench.whileNeighbourAnswers(async () => {
      for (const [from, to] of [
        ['add', 'a`d'],
        ['add', 'a;d'],
        ['berth:host/log@', 'berth:host/l`)@'],
      ]) {
        const err = await refusal(patched(from!, to!));
        expect(err.code).toBe('malformed-component');
        expect(err.message).toMatch(/not a valid import or export name/);
      }
    });
  });
});
