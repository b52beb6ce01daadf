import type { ComponentGlue } from './glue-types.js';
import type { JcoArtifact } from './artifact.js';
import { loadGlueScript } from './glue-loader.js';
import { JcoGuestComponent } from './guest.js';
import { warmUpGlue } from './warm-up.js';

/**
 * The jco artifacts of one sandbox thread: each component's glue, loaded once per thread (from
 * its CommonJS script with V8's code cache when there is one, else imported as an ES module,
 * the only asynchronous step), and warmed up ahead of time for apps that may be placed here.
 */
export class JcoThreadLoader {
  private readonly glues = new Map<string, ComponentGlue>();
  /** Glues instantiated for real here: warming them up would only spend time. */
  private readonly placed = new Set<string>();

  /** The component at once when its glue is here or loads synchronously; else a promise of it. */
  load(artifact: JcoArtifact): JcoGuestComponent | Promise<JcoGuestComponent> {
    this.placed.add(artifact.glueUrl);
    const glue = this.glues.get(artifact.glueUrl) ?? glueFromScript(artifact.glueScript, artifact.glueCodeCache);
    if (glue) {
      this.glues.set(artifact.glueUrl, glue);
      return new JcoGuestComponent(glue, artifact);
    }
    return import(artifact.glueUrl).then((module: ComponentGlue) => {
      this.glues.set(artifact.glueUrl, module);
      return new JcoGuestComponent(module, artifact);
    });
  }

  /**
   * Loads and warms a glue for an app that may be placed here later. The warm-up waits a turn,
   * so that a load of the same app already sent runs first and the warm-up is skipped. A failure
   * shows again, with its reason, at load. `warmed` runs after a warm-up that ran.
   */
  preload(artifact: JcoArtifact, warmed: () => void): void {
    if (this.glues.has(artifact.glueUrl)) return;
    const warm = (module: ComponentGlue) => {
      this.glues.set(artifact.glueUrl, module);
      setImmediate(() => {
        if (this.placed.has(artifact.glueUrl)) return;
        try {
          warmUpGlue(module, artifact.modules);
          warmed();
        } catch {
          // only slower: the app's own start will do this work
        }
      });
    };
    const script = glueFromScript(artifact.glueScript, artifact.glueCodeCache);
    if (script) warm(script);
    else import(artifact.glueUrl).then(warm, () => {});
  }
}

/**
 * The glue from its CommonJS script (glue-script.ts), synchronously, without starting the ES
 * module loader; undefined when there is none or it does not load, and the module is imported.
 */
function glueFromScript(path: string | undefined, codeCache: Uint8Array | undefined): ComponentGlue | undefined {
  if (!path) return undefined;
  try {
    return loadGlueScript(path, codeCache).glue;
  } catch {
    return undefined;
  }
}
