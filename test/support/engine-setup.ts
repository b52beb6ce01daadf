import { join } from 'node:path';
import { setDefaultEngine } from '../../runtime/engine/default-engine.js';
import { WasmtimeEngine } from '../../runtime/engine/wasmtime/wasmtime-engine.js';
import { wasmtimeLibrary } from './engines.js';

/**
 * The `wasmtime` test project (vitest.config.ts): every Runtime a test makes without an engine
 * runs on Wasmtime, and so does every agent or CLI the test starts (BERTH_ENGINE). A missing
 * library fails the project's files: `npm install` fetches it.
 */
const library = await wasmtimeLibrary();
process.env.BERTH_ENGINE = 'wasmtime';
process.env.BERTH_WASMTIME_LIBRARY = library;
setDefaultEngine((cacheDir) => new WasmtimeEngine({ cacheDir: join(cacheDir, 'wasmtime'), library }));
