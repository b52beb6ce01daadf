import type { Digest } from '../../common/digest.js';
import type { ComponentInfo } from '../component/inspect.js';
import type { MemoryCap } from './jco/memory-budget.js';
import type { TableCap } from './jco/table-limit.js';

/**
 * The narrow seam between Berth and the thing that executes WebAssembly (docs/engine.md).
 * Today that is V8 through jco's transpiled glue; a wasmtime-backed engine would implement the
 * same two steps: compile bytes once per digest, then instantiate cheaply many times.
 */
export interface CompileOptions {
  /** Linear memory ceiling for all memories of the component together, in bytes (rounded down to pages). */
  memoryLimitBytes: number;
}

/** A component ready to instantiate: everything a sandbox needs, cheap to send to a worker. */
export interface CompiledComponent {
  engine: string;
  digest: Digest;
  info: ComponentInfo;
  /** file: URL of the generated instantiation glue (an ES module exporting `instantiate`). */
  glueUrl: string;
  /** Path of the same glue as a CommonJS script (faster to load in a fresh thread), when there is one. */
  glueScript?: string;
  /** V8's code cache of `glueScript`, made after a warm-up (glue-loader.ts); a thread compiles without it. */
  glueCodeCache?: Uint8Array;
  /** Compiled core modules by the name the glue asks for; structured-cloneable to workers. */
  modules: Record<string, WebAssembly.Module>;
  maxMemoryPages: number;
  /** How that ceiling is shared by the memories of its core modules (memory-budget.ts). */
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

export interface EngineStats {
  transpiles: number;
  compiles: number;
  memoryHits: number;
  diskHits: number;
}

export interface Engine {
  readonly name: string;
  compile(bytes: Uint8Array, options: CompileOptions): Promise<CompiledComponent>;
  stats(): EngineStats;
  /** Drops what is kept in memory for a digest no app uses any more (compiled code is executable memory). */
  evict?(digest: string): void;
  /** Removes what is kept on disk for every component but these; how many it removed. */
  prune?(keep: ReadonlySet<Digest>): number;
}

/** What the generated glue exports (jco `instantiation: 'sync'` mode). */
export interface ComponentGlue {
  instantiate(
    getCoreModule: (name: string) => WebAssembly.Module,
    imports: Record<string, unknown>,
    instantiateCore?: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
  ): Record<string, unknown>;
}
