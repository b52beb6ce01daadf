import { BerthError } from '../../common/errors.js';
import { ENGINE_CHOICES, type EngineChoice } from '../../wire/engine.js';

/** Names the engine of `berth run`, the agent and the demo when their own option does not (the test projects set it per engine). */
export const ENGINE_ENV = 'BERTH_ENGINE';

/** A choice given as text (a flag, the environment), checked: a typo is an error, never a silent `auto`. */
export function parseEngineChoice(text: string, where: string): EngineChoice {
  if ((ENGINE_CHOICES as readonly string[]).includes(text)) return text as EngineChoice;
  throw new BerthError('usage', `${where} takes one of ${ENGINE_CHOICES.join(', ')}, got "${text}"`);
}

/** BERTH_ENGINE when set, else `auto`. */
export function defaultEngineChoice(env: NodeJS.ProcessEnv = process.env): EngineChoice {
  const value = env[ENGINE_ENV];
  return value ? parseEngineChoice(value, ENGINE_ENV) : 'auto';
}
