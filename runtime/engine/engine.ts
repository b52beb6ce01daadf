import type { Digest } from '../../common/digest.js';
import type { EngineKind } from '../../wire/engine.js';
import type { ComponentInfo } from '../component/inspect.js';
import type { JcoArtifact } from './jco/artifact.js';
import type { WasmtimeArtifact } from './wasmtime/artifact.js';

/**
 * The seam between Berth and what executes WebAssembly (docs/engine.md), cut the way Wasmtime's
 * embedding API is: an engine compiles bytes into an opaque artifact, once per digest; a sandbox
 * loads the artifact in its thread (runtime/engine/guest.ts) and instantiates it once per app
 * instance, with host objects built from that app's grants. Nothing outside runtime/engine/
 * looks inside an artifact.
 */
export interface CompileOptions {
  /** Linear memory ceiling of one app instance, in bytes (rounded down to pages). */
  memoryLimitBytes: number;
}

/** A component ready to instantiate: everything a sandbox needs, cheap to send to a worker. */
export interface CompiledComponent {
  engine: EngineKind;
  /** The engine and its version, as status and accounts show it (`wasmtime@49.0.0+winch`). */
  engineName: string;
  digest: Digest;
  info: ComponentInfo;
  maxMemoryPages: number;
  artifact: JcoArtifact | WasmtimeArtifact;
}

export interface EngineStats {
  transpiles: number;
  compiles: number;
  memoryHits: number;
  diskHits: number;
}

export interface Engine {
  readonly kind: EngineKind;
  readonly name: string;
  compile(bytes: Uint8Array, options: CompileOptions): Promise<CompiledComponent>;
  stats(): EngineStats;
  /** Drops what is kept in memory for a digest no app uses any more (compiled code is executable memory). */
  evict?(digest: string): void;
  /** Removes what is kept on disk for every component but these; how many it removed. */
  prune?(keep: ReadonlySet<Digest>): number;
}
