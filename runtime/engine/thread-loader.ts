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
   * Loads and warms an artifact ahead of an app's start, so that a pre-started thread has done
   * what does not depend on the app's grants: jco imports and warms its glue; Wasmtime opens the
   * thread's FFI and maps the precompiled component. A failure here is left for `load` to report.
   * A thread terminated while koffi opens the C API aborts the process, so a thread that may be
   * preloading is only ever asked to exit (WorkerPool.close, SandboxThread.retire).
   */
  preload(artifact: CompiledComponent['artifact'], warmed: () => void): void {
    if (artifact.engine === 'jco') return this.jco.preload(artifact, warmed);
    this.wasmtimeLoader().then(
      (loader) => {
        loader.preload(artifact);
        warmed();
      },
      () => undefined,
    );
  }

  private async wasmtimeLoader(): Promise<WasmtimeThreadLoader> {
    const { WasmtimeThreadLoader } = await import('./wasmtime/thread-loader.js');
    this.wasmtime ??= new WasmtimeThreadLoader(this.halt);
    return this.wasmtime;
  }
}
