import { importOptional, JCO, PREVIEW2_SHIM } from '../common/optional-package.js';
import { withJcoTools } from './engine/jco/jco-engine.js';

type Jco = typeof import('@bytecodealliance/jco');
// `_setPreopens` is declared by the shim's JavaScript but not by its type definitions.
type ShimFilesystem = { _setPreopens(preopens: Record<string, string>): void };

/**
 * Builds a component from a WAT core module and a world in a WIT folder (see wit-package.ts):
 * the fast path for small samples and test fixtures. jco's wasm-tools reads the WIT folder
 * through preview2-shim's file system, which has no preopens unless given one, so the folder
 * is preopened for the call. This runs in build tools only, never inside the runtime; both
 * packages are loaded here, not at module load, since a device install leaves them out.
 */
export async function buildWatComponent(wat: string, witDir: string, world: string): Promise<Uint8Array> {
  const { componentEmbed, componentNew, parse } = await importOptional<Jco>(JCO);
  const { _setPreopens } = await importOptional<ShimFilesystem>(PREVIEW2_SHIM, `${PREVIEW2_SHIM.name}/filesystem`);
  return withJcoTools(async () => {
    _setPreopens({ [witDir]: witDir });
    const core = await parse(wat);
    const embedded = await componentEmbed({ binary: core, witPath: witDir, world });
    return componentNew(embedded);
  });
}
