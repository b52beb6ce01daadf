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
    return this.wasmtimeLoader().then((loader) => loader.load(artifact));
  }

  /**
   * Loads and warms an artifact ahead of an app's start (jco: imports and warms its glue). A
   * Wasmtime artifact is not preloaded: an idle pre-started thread may be terminated at any time
   * (the pool closing), and a thread terminated while koffi loads or declares Wasmtime's C API
   * aborts the process (seen on Node 24: `napi_throw` during termination). Its FFI is opened when
   * an app loads, in a thread that is then only ever retired by asking it to exit.
   */
  preload(artifact: CompiledComponent['artifact'], warmed: () => void): void {
    if (artifact.engine === 'jco') this.jco.preload(artifact, warmed);
  }

  private async wasmtimeLoader(): Promise<WasmtimeThreadLoader> {
    const { WasmtimeThreadLoader } = await import('./wasmtime/thread-loader.js');
    this.wasmtime ??= new WasmtimeThreadLoader(this.halt);
    return this.wasmtime;
  }
}
