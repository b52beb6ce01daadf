import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import type { ComponentGlue } from './glue-types.js';

/**
 * Loads the glue script (glue-script.ts) in the calling thread, with V8's code cache when one is
 * given: the cache made after a warm-up (`glueCodeCache`) holds the compiled code of every
 * function the warm-up ran, so a fresh sandbox thread neither parses the glue nor compiles its
 * instantiation and export wrappers again (~1.9 ms instead of ~4.6 ms to load, instantiate and
 * call once, docs/benchmarks.md). V8 compares a cache with the source's length, not its text,
 * and would run the cached code of another script of that length: so a cache is only ever the
 * one the engine made in this process from this very file, handed over in memory, never one
 * read from disk.
 */
export function loadGlueScript(path: string, codeCache?: Uint8Array): { glue: ComponentGlue; script: Script } {
  const source = readFileSync(path, 'utf8');
  const script = new Script(`(function (module) {${source}\n})`, {
    filename: path,
    ...(codeCache ? { cachedData: Buffer.from(codeCache.buffer, codeCache.byteOffset, codeCache.byteLength) } : {}),
  });
  const module = { exports: {} as Partial<ComponentGlue> };
  (script.runInThisContext() as (m: typeof module) => void)(module);
  if (typeof module.exports.instantiate !== 'function') throw new Error(`${path} does not export instantiate`);
  return { glue: module.exports as ComponentGlue, script };
}
