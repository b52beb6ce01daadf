import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { expect } from 'vitest';

/** Checks a document against CycloneDX 1.6's JSON schema, strict (no properties the spec lacks), with the library's validator. */
export async function expectValidCycloneDx(doc: unknown): Promise<void> {
  const error = await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(JSON.stringify(doc));
  expect(error).toBeNull();
}

/** Hand-made binaries: WebAssembly's framing, so a test can put any byte anywhere. */
export const wasm = {
  u32(n: number): number[] {
    const out: number[] = [];
    do {
      const b = n & 0x7f;
      n = Math.floor(n / 128);
      out.push(n ? b | 0x80 : b);
    } while (n);
    return out;
  },
  name(text: string | Uint8Array): number[] {
    const b = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    return [...wasm.u32(b.length), ...b];
  },
  section(id: number, body: number[]): number[] {
    return [id, ...wasm.u32(body.length), ...body];
  },
  /** A component header and these sections. */
  component(...sections: number[][]): Uint8Array {
    return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, ...sections.flat()]);
  },
  /** A core module header and these sections, as the body of a component's core module section. */
  coreModule(...sections: number[][]): number[] {
    return [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...sections.flat()];
  },
  /** A producers custom section from its fields, each a list of [name, version]. */
  producers(fields: Record<string, [string, string][]>): number[] {
    const body = [...wasm.name('producers'), ...wasm.u32(Object.keys(fields).length)];
    for (const [field, values] of Object.entries(fields)) {
      body.push(...wasm.name(field), ...wasm.u32(values.length));
      for (const [n, v] of values) body.push(...wasm.name(n), ...wasm.name(v));
    }
    return wasm.section(0, body);
  },
};
