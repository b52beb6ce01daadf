import { BerthError } from '../../common/errors.js';
import { ENGINE_CHOICES, WASMTIME_COMPILERS, type EngineChoice, type WasmtimeCompiler } from '../../wire/engine.js';

/** Names the engine of `berth run`, the agent and the demo when their own option does not (the test projects set it per engine). */
export const ENGINE_ENV = 'BERTH_ENGINE';

/** A choice given as text (a flag, the environment), checked: a typo is an error, never a silent `auto`. */
export function parseEngineChoice(text: string, where: string): EngineChoice {
  return oneOf(text, ENGINE_CHOICES, where);
}

/** Wasmtime's compiler given as text (`berth run --compiler`), checked like the engine. */
export function parseWasmtimeCompiler(text: string, where: string): WasmtimeCompiler {
  return oneOf(text, WASMTIME_COMPILERS, where);
}

function oneOf<T extends string>(text: string, choices: readonly T[], where: string): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new BerthError('usage', `${where} takes one of ${choices.join(', ')}, got "${text}"`);
}

/** BERTH_ENGINE when set, else `auto`. */
export function defaultEngineChoice(env: NodeJS.ProcessEnv = process.env): EngineChoice {
  const value = env[ENGINE_ENV];
  return value ? parseEngineChoice(value, ENGINE_ENV) : 'auto';
}
