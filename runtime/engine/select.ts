import { BerthError, errorCode, errorMessage } from '../../common/errors.js';
import type { EngineChoice, WasmtimeCompiler } from '../../wire/engine.js';
import type { Engine } from './engine.js';
import { JcoEngine } from './jco/jco-engine.js';

export interface EngineSelection {
  choice: EngineChoice;
  /** Where compiled artifacts are kept. */
  cacheDir: string;
  /** A Wasmtime library from config (checked against the pin like any other). */
  wasmtimeLibrary?: string;
  /** Wasmtime's compiler (Winch unless said); nothing to jco. */
  wasmtimeCompiler?: WasmtimeCompiler;
  /** Told once why Wasmtime is not used when `auto` falls back to jco. */
  notice?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * The engine a device or `berth run` uses: Wasmtime wherever its pinned library can be had
 * (docs/engine.md), else jco. Asked for by name, an engine that cannot run is an error.
 */
export async function selectEngine(selection: EngineSelection): Promise<Engine> {
  if (selection.choice === 'jco') return new JcoEngine({ cacheDir: selection.cacheDir });
  const { locateWasmtimeLibrary } = await import('./wasmtime/library.js');
  const found = await locateWasmtimeLibrary({ path: selection.wasmtimeLibrary, env: selection.env });
  if ('missing' in found) {
    if (selection.choice === 'wasmtime') throw new BerthError('engine-unavailable', `the Wasmtime engine cannot run: ${found.missing}`);
    const jco = jcoOrNone(selection.cacheDir, found.missing);
    selection.notice?.(`${found.missing}; running on jco`);
    return jco;
  }
  const { WasmtimeEngine } = await import('./wasmtime/wasmtime-engine.js');
  const settings = selection.wasmtimeCompiler ? { compiler: selection.wasmtimeCompiler } : undefined;
  return new WasmtimeEngine({ cacheDir: selection.cacheDir, library: found.path, settings });
}

/** jco as the fallback; on a device install that left jco out too, one error naming both reasons. */
function jcoOrNone(cacheDir: string, wasmtimeMissing: string): JcoEngine {
  try {
    return new JcoEngine({ cacheDir });
  } catch (err) {
    if (errorCode(err, '') !== 'package-missing') throw err;
    throw new BerthError('engine-unavailable', `no engine can run apps here: ${wasmtimeMissing}; and ${errorMessage(err)}`);
  }
}
