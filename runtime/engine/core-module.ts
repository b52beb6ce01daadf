import { readFileSync } from 'node:fs';
import { BerthError, errorMessage } from '../../common/errors.js';
import { capMemory } from './memory-limit.js';

/** Reads a transpiled core module, caps its memory and compiles it (also in the process tier's child). */
export async function compileCoreFile(file: string, maxMemoryPages: number, what: string): Promise<WebAssembly.Module> {
  const capped = capMemory(readFileSync(file), maxMemoryPages);
  try {
    return await WebAssembly.compile(capped);
  } catch (err) {
    throw new BerthError('malformed-component', `${what} does not compile: ${errorMessage(err)}`);
  }
}
