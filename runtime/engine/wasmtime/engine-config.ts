import type { WasmtimeCompiler } from '../../../wire/engine.js';
import type { Ptr, WasmtimeApi } from './ffi.js';

/**
 * The settings a Wasmtime engine is made with. A precompiled artifact loads only into an engine
 * with the same settings and library version, so they are part of the artifact cache's key.
 */
export interface EngineSettings {
  /** Winch compiles a large component ~5x faster than Cranelift, and runs it somewhat slower (docs/engine.md). */
  compiler: WasmtimeCompiler;
}

export const DEFAULT_ENGINE_SETTINGS: EngineSettings = { compiler: 'winch' };

/** wasmtime_strategy_t: 0 auto, 1 Cranelift, 2 Winch. */
const STRATEGY = { cranelift: 1, winch: 2 } as const;
/** Guest stack per call: deep enough for JavaScript guests, far below the thread's own stack. */
const MAX_WASM_STACK = 512 * 1024;

export function settingsKey(settings: EngineSettings): string {
  return `${settings.compiler}+epoch+stack${MAX_WASM_STACK}`;
}

export function newEngine(api: WasmtimeApi, settings: EngineSettings): Ptr {
  const config = api.wasm_config_new() as Ptr;
  api.wasmtime_config_wasm_component_model_set(config, true);
  // Epoch interruption is what stops a runaway guest without ending its thread (docs/engine.md).
  api.wasmtime_config_epoch_interruption_set(config, true);
  api.wasmtime_config_strategy_set(config, STRATEGY[settings.compiler]);
  api.wasmtime_config_max_wasm_stack_set(config, MAX_WASM_STACK);
  api.wasmtime_config_parallel_compilation_set(config, true);
  // wasm_engine_new_with_config takes the config over.
  return api.wasm_engine_new_with_config(config) as Ptr;
}
