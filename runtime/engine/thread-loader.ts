import type { CompiledComponent } from './engine.js';
import type { GuestComponent } from './guest.js';
import { JcoThreadLoader } from './jco/thread-loader.js';
import type { WasmtimeThreadLoader } from './wasmtime/thread-loader.js';

/**
 * A sandbox thread's loader of artifacts, whichever engine made them. The Wasmtime side is
 * imported on its first use, so that a thread running only jco apps never loads the FFI.
 */
export class GuestLoader {
  private readonly jco = new JcoThreadLoader();
  private wasmtime: WasmtimeThreadLoader | undefined;

  /** `halt`: the thread's flag; set, every guest here that an engine can stop is stopped. */
  constructor(private readonly halt = new Int32Array(new SharedArrayBuffer(4))) {}

  load(artifact: CompiledComponent['artifact']): GuestComponent | Promise<GuestComponent> {
    if (artifact.engine === 'jco') return this.jco.load(artifact);
    if (this.wasmtime) return this.wasmtime.load(artifact);
    return import('./wasmtime/thread-loader.js').then(({ WasmtimeThreadLoader }) => {
      this.wasmtime ??= new WasmtimeThreadLoader(this.halt);
      return this.wasmtime.load(artifact);
    });
  }

  /** Loads and warms an artifact ahead of an app's start (only the jco engine has work to do early). */
  preload(artifact: CompiledComponent['artifact'], warmed: () => void): void {
    if (artifact.engine === 'jco') this.jco.preload(artifact, warmed);
  }
}
