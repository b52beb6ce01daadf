import type { WasmtimeArtifact } from './artifact.js';
import { LoadedComponent } from './component.js';
import { WasmtimeGuestComponent } from './guest.js';
import { alloc, free, ptr } from './native.js';
import { processEngine } from './process-engine.js';
import { WasmtimeThread } from './thread.js';

/**
 * The Wasmtime artifacts of one sandbox thread, each loaded once (by mmap) with its linker.
 * In the process that compiled them the engine is shared by address; in another process (the
 * process tier's child) the process makes its own engine with the same settings.
 */
export class WasmtimeThreadLoader {
  private readonly components = new Map<string, LoadedComponent>();

  constructor(private readonly halt: Int32Array) {}

  load(artifact: WasmtimeArtifact): WasmtimeGuestComponent {
    const { loaded, epochActive } = this.loaded(artifact);
    return new WasmtimeGuestComponent(loaded, artifact, epochActive, this.halt);
  }

  /** Opens this thread's FFI and maps the component, ahead of its first instance. */
  preload(artifact: WasmtimeArtifact): void {
    try {
      this.loaded(artifact);
    } catch {
      // Reported by `load`, when an app of it starts.
    }
  }

  private loaded(artifact: WasmtimeArtifact): { loaded: LoadedComponent; epochActive: SharedArrayBuffer } {
    const own = artifact.pid === process.pid;
    const engine = own ? { engine: artifact.engineAddress, epochActive: artifact.epochActive } : processEngine(artifact.library, artifact.settings);
    const thread = WasmtimeThread.open(artifact.library, engine.engine);
    let loaded = this.components.get(artifact.path);
    if (!loaded) {
      const out = alloc(8);
      try {
        thread.check(thread.api.wasmtime_component_deserialize_file(thread.engine, artifact.path, out), `loading ${artifact.path}`);
        loaded = new LoadedComponent(thread, ptr(out));
      } finally {
        free(out);
      }
      this.components.set(artifact.path, loaded);
    }
    return { loaded, epochActive: engine.epochActive };
  }
}
