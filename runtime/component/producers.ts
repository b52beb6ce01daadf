import { BerthError } from '../../common/errors.js';
import { binaryKind, Cursor, expectComponent, malformed, sections } from './binary-reader.js';

/**
 * The `producers` custom sections of a component (WebAssembly tool-conventions,
 * ProducersSection.md): which languages it was written in and which tools made it. A toolchain
 * writes one into each core module it emits and wit-component one into the component, so the
 * nested core modules and components are read too, each within its parent's bounds.
 */

export const PRODUCER_FIELDS = ['language', 'processed-by', 'sdk'] as const;
export type ProducerField = (typeof PRODUCER_FIELDS)[number];

/** One entry, e.g. `{ name: 'rustc', version: '1.88.0 (6b00bc388 2025-06-23)' }`; the version may be empty. */
export interface Producer {
  name: string;
  version: string;
}

export type Producers = Record<ProducerField, Producer[]>;

const SECTION_CUSTOM = 0;
const SECTION_CORE_MODULE = 1;
const SECTION_COMPONENT = 4;
const MAX_COMPONENT_SECTION_ID = 12;
/** Core sections run to 13 (tag, from exception handling). */
const MAX_CORE_SECTION_ID = 13;
/** Deeper nesting than any toolchain emits; the bound keeps a hostile binary from exhausting the stack. */
const MAX_NESTING = 32;

/** Every producer the component and its nested modules name, each once, in the order found. */
export function readProducers(bytes: Uint8Array): Producers {
  const found: Producers = { language: [], 'processed-by': [], sdk: [] };
  const seen = new Set<string>();
  const add = (field: ProducerField, p: Producer): void => {
    const key = JSON.stringify([field, p.name, p.version]);
    if (!seen.has(key)) (seen.add(key), found[field].push(p));
  };
  expectComponent(bytes);
  walk(bytes, 0, bytes.length, 0, add);
  return found;
}

type Add = (field: ProducerField, p: Producer) => void;

function walk(bytes: Uint8Array, start: number, end: number, depth: number, add: Add): void {
  if (depth > MAX_NESTING) throw malformed(`modules and components nested more than ${MAX_NESTING} deep at offset ${start}`);
  const kind = binaryKind(bytes.subarray(start, end));
  if (kind === 'unknown') throw malformed(`nested binary at offset ${start} has no \\0asm header`);
  const maxId = kind === 'component' ? MAX_COMPONENT_SECTION_ID : MAX_CORE_SECTION_ID;
  const within = depth === 0 ? 'the file' : `the nested ${kind} at offset ${start}`;
  for (const { id, body } of sections(bytes, start + 8, end, maxId, within)) {
    if (id === SECTION_CUSTOM) readCustom(body, add);
    else if (kind === 'component' && (id === SECTION_CORE_MODULE || id === SECTION_COMPONENT)) walk(bytes, body.pos, body.end, depth + 1, add);
  }
}

function readCustom(body: Cursor, add: Add): void {
  const at = body.pos;
  if (body.name() !== 'producers') return;
  try {
    readFields(body, add);
  } catch (err) {
    // Say which section the bad byte is in: a producers section is read by nothing else.
    if (err instanceof BerthError && err.code === 'malformed-component') throw malformed(`producers section at offset ${at}: ${String(err.details?.reason)}`);
    throw err;
  }
}

function readFields(c: Cursor, add: Add): void {
  const fields = c.u32();
  for (let i = 0; i < fields; i++) {
    const field = c.name();
    const values = c.u32();
    for (let j = 0; j < values; j++) {
      const producer = { name: c.name(), version: c.name() };
      // Fields beyond the three the convention defines are read over, not recorded.
      if (isProducerField(field)) add(field, producer);
    }
  }
  if (c.pos !== c.end) throw malformed(`${c.end - c.pos} trailing bytes after ${fields} fields`);
}

function isProducerField(name: string): name is ProducerField {
  return (PRODUCER_FIELDS as readonly string[]).includes(name);
}
