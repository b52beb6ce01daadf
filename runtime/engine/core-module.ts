import { readFileSync } from 'node:fs';
import { BerthError, errorMessage } from '../../common/errors.js';
import { capMemory } from './memory-limit.js';
import { capTables, planTableCap, type TableCap } from './table-limit.js';

export interface CoreModule {
  module: WebAssembly.Module;
  /** The entries its own tables can reach together, once capped (what one instance of it may cost). */
  tableEntries: number;
}

/** The table cap of a component, from all its core modules (table-limit.ts). */
export function tableCapOf(files: string[]): TableCap {
  return planTableCap(files.map((file) => readFileSync(file)));
}

/** Reads a transpiled core module, caps its memories and tables, and compiles it (also in the process tier's child). */
export async function compileCoreFile(file: string, maxMemoryPages: number, tableCap: TableCap, what: string): Promise<CoreModule> {
  const { bytes, entries } = capTables(capMemory(readFileSync(file), maxMemoryPages), tableCap);
  try {
    return { module: await WebAssembly.compile(bytes), tableEntries: entries };
  } catch (err) {
    throw new BerthError('malformed-component', `${what} does not compile: ${errorMessage(err)}`);
  }
}
