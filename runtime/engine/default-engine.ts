import type { Engine } from './engine.js';
import { JcoEngine } from './jco/jco-engine.js';

type EngineFactory = (cacheDir: string) => Engine;

let factory: EngineFactory = (cacheDir) => new JcoEngine({ cacheDir });

/**
 * The engine of a Runtime made without one (a library user's, a test's): jco, unless the process
 * said otherwise. The agent and `berth run` always choose theirs (select.ts); the test suites set
 * this to run every runtime-facing test on each engine (vitest.config.ts).
 */
export function defaultEngine(cacheDir: string): Engine {
  return factory(cacheDir);
}

export function setDefaultEngine(make: EngineFactory): void {
  factory = make;
}
