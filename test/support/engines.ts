import { join } from 'node:path';
import type { EngineKind } from '../../wire/engine.js';
import type { Engine } from '../../runtime/engine/engine.js';
import { JcoEngine } from '../../runtime/engine/jco/jco-engine.js';
import { locateWasmtimeLibrary } from '../../runtime/engine/wasmtime/library.js';
import { WasmtimeEngine } from '../../runtime/engine/wasmtime/wasmtime-engine.js';

/**
 * The engines runtime-facing tests run on: both, unless BERTH_TEST_ENGINES names fewer. A
 * Wasmtime library that cannot be found fails the tests that need it (never a silent skip):
 * `npm install` fetches it, or BERTH_WASMTIME_LIBRARY names it.
 */
export const TEST_ENGINES: EngineKind[] = (process.env.BERTH_TEST_ENGINES ?? 'jco,wasmtime')
  .split(',')
  .map((e) => e.trim())
  .filter((e): e is EngineKind => e === 'jco' || e === 'wasmtime');

let library: Promise<string> | undefined;

export function wasmtimeLibrary(): Promise<string> {
  library ??= locateWasmtimeLibrary({}).then((found) => {
    if ('missing' in found) throw new Error(`tests on the Wasmtime engine need its library: ${found.missing}`);
    return found.path;
  });
  return library;
}

export async function testEngine(kind: EngineKind, cacheDir: string): Promise<Engine> {
  if (kind === 'jco') return new JcoEngine({ cacheDir });
  return new WasmtimeEngine({ cacheDir: join(cacheDir, 'wasmtime'), library: await wasmtimeLibrary() });
}
