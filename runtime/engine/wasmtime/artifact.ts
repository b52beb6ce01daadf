import type { EngineSettings } from './engine-config.js';

/**
 * What the Wasmtime engine compiles a component into: a precompiled artifact on disk, loaded by
 * mmap into the process's engine. `engine` and `epochActive` are this process's: a sandbox in
 * another process (the process tier) makes its own engine with the same settings.
 */
export interface WasmtimeArtifact {
  engine: 'wasmtime';
  /** The Wasmtime library, its hash checked when it was found (library.ts). */
  library: string;
  settings: EngineSettings;
  /** The precompiled component (`.cwasm`), valid only for this library and these settings. */
  path: string;
  /** Linear memory of one memory of the instance, in bytes (the store's limiter). */
  memoryBytes: number;
  /** Memories the instance's core instances define in all, as planned (memory-plan.ts): the store's limit. */
  memories: number;
  /** The process's engine, by address (Wasmtime's engine is thread-safe), and the process it is in. */
  engineAddress: bigint;
  pid: number;
  /** Counts calls running in this process's stores: the epoch ticker ticks only while it is nonzero. */
  epochActive: SharedArrayBuffer;
}

export function wasmtimeArtifactFiles(artifact: WasmtimeArtifact): string[] {
  return [artifact.path, artifact.library];
}
