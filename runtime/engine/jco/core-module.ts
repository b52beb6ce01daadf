import { readFileSync } from 'node:fs';
import { BerthError, errorMessage } from '../../../common/errors.js';
import { capMemory } from '../core-wasm/memory-limit.js';
import { planMemoryCap, type MemoryCap } from '../core-wasm/memory-budget.js';
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

/** The memory cap of a component: its memory limit shared by the memories of all its core modules (memory-budget.ts). */
export function memoryCapOf(files: Record<string, string>, maxMemoryPages: number): MemoryCap {
  return planMemoryCap(Object.fromEntries(Object.entries(files).map(([name, file]) => [name, readFileSync(file)])), maxMemoryPages);
}

/** Reads a transpiled core module, caps its memories and tables, and compiles it (also in the process tier's child). */
export async function compileCoreFile(file: string, name: string, memoryCap: MemoryCap, tableCap: TableCap, what: string): Promise<CoreModule> {
  const { bytes, entries } = capTables(capMemory(readFileSync(file), memoryCap.budget, memoryCap.maxima[name] ?? []), tableCap);
  try {
    return { module: await WebAssembly.compile(bytes), tableEntries: entries };
  } catch (err) {
    throw new BerthError('malformed-component', `${what} does not compile: ${errorMessage(err)}`);
  }
}
