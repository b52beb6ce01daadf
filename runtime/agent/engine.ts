import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import type { DeviceEngine } from '../../wire/engine.js';
import { defaultEngineChoice } from '../engine/choice.js';
import type { Engine } from '../engine/engine.js';
import { selectEngine } from '../engine/select.js';
import type { AgentConfig } from './config.js';

export interface SelectedEngine {
  engine: Engine;
  /** Why Wasmtime is not used, when `auto` fell back to jco. */
  fallback: string | undefined;
}

/**
 * The device's engine (config `runtime.engine`, else BERTH_ENGINE, else `auto`), chosen once
 * before anything else: a device that can run no engine (a device install without jco and
 * without the Wasmtime library) stops here with one error naming both reasons.
 */
export async function selectDeviceEngine(config: AgentConfig, logger: Logger): Promise<SelectedEngine> {
  let fallback: string | undefined;
  const engine = await selectEngine({
    choice: config.runtime.engine ?? defaultEngineChoice(),
    cacheDir: join(config.dataDir, 'runtime', 'cache'),
    wasmtimeLibrary: config.runtime.wasmtimeLibrary,
    wasmtimeCompiler: config.runtime.wasmtimeCompiler,
    notice: (message) => (fallback = message),
  });
  logger.info({ engine: engine.name, ...(fallback ? { fallback } : {}) }, 'engine selected');
  return { engine, fallback };
}

/** What capabilities and status say of the engine. */
export function deviceEngineOf(engine: Engine): DeviceEngine {
  return { kind: engine.kind, name: engine.name };
}
