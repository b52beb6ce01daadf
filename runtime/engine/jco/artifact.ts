import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryPagesOf, type MemoryCap } from '../core-wasm/memory-budget.js';
import type { TableCap } from './table-limit.js';
import type { CoreBudgetLimits } from './core-budget.js';

/** What the jco engine compiles a component into: instantiation glue plus compiled core modules. */
export interface JcoArtifact {
  engine: 'jco';
  /** file: URL of the generated instantiation glue (an ES module exporting `instantiate`). */
  glueUrl: string;
  /** Path of the same glue as a CommonJS script (faster to load in a fresh thread), when there is one. */
  glueScript?: string;
  /** V8's code cache of `glueScript`, made after a warm-up (glue-loader.ts); a thread compiles without it. */
  glueCodeCache?: Uint8Array;
  /** Compiled core modules by the name the glue asks for; structured-cloneable to workers. */
  modules: Record<string, WebAssembly.Module>;
  /** How the memory ceiling is shared by the memories of its core modules (memory-budget.ts). */
  memoryCap: MemoryCap;
  /** How the tables of its core modules were capped (table-limit.ts). */
  tableCap: TableCap;
  /** Per core module, the entries its own tables can reach: summed over instances at instantiation. */
  tableEntries: Record<string, number>;
  /**
   * The files the modules were compiled from (core modules before the memory cap), so that a
   * sandbox in another process, which cannot receive compiled modules, compiles its own.
   */
  coreFiles: Record<string, string>;
}

/** The artifact as sent to a thread: V8's code cache only with the thread's first load of it. */
export function jcoArtifactForThread(artifact: JcoArtifact, firstInThread: boolean): JcoArtifact {
  if (firstInThread || !artifact.glueCodeCache) return artifact;
  const { glueCodeCache: _sent, ...rest } = artifact;
  return rest;
}

/** Files a sandbox in another process reads to load the artifact. */
export function jcoArtifactFiles(artifact: JcoArtifact): string[] {
  return [dirname(fileURLToPath(artifact.glueUrl)), ...Object.values(artifact.coreFiles).map(dirname)];
}

/** What its core instances may add up to (core-budget.ts). */
export function coreLimitsOf(artifact: JcoArtifact): CoreBudgetLimits {
  const memoryPages = Object.fromEntries(Object.keys(artifact.modules).map((name) => [name, memoryPagesOf(artifact.memoryCap, name)]));
  return { tableEntries: artifact.tableEntries, tableBudget: artifact.tableCap.budget, memoryPages, memoryBudget: artifact.memoryCap.budget };
}
