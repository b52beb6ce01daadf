import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco';
import { withJcoTools } from './engine/jco/jco-engine.js';
import * as shimFilesystem from '@bytecodealliance/preview2-shim/filesystem';

// Declared by the shim's JavaScript but not by its type definitions.
const { _setPreopens } = shimFilesystem as unknown as { _setPreopens(preopens: Record<string, string>): void };

/**
 * Builds a component from a WAT core module and a world in a WIT folder (see wit-package.ts):
 * the fast path for small samples and test fixtures. jco's wasm-tools reads the WIT folder
 * through preview2-shim's file system, which has no preopens unless given one, so the folder
 * is preopened for the call. This runs in build tools only, never inside the runtime.
 */
export function buildWatComponent(wat: string, witDir: string, world: string): Promise<Uint8Array> {
  return withJcoTools(async () => {
    _setPreopens({ [witDir]: witDir });
    const core = await parse(wat);
    const embedded = await componentEmbed({ binary: core, witPath: witDir, world });
    return componentNew(embedded);
  });
}
