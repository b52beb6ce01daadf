import { silentLogger } from '../common/logger.js';
import { Runtime } from '../runtime/runtime.js';
import type { EngineKind } from '../wire/engine.js';
import { benchEngine } from './engines.js';
import { freshInput } from './fresh-process.js';
import { addOnce, memoryOf, startHello } from './isolation-berth.js';

/** Input of one measurement of many instance-tier apps; the result is printed as one JSON line (`MemoryFigure`). */
export interface ManyAppsInput {
  engine: EngineKind;
  dataDir: string;
  cacheDir: string;
  count: number;
  budgetMs: number;
}

/**
 * In a fresh process: `count` hello apps in the `instance` tier of a runtime on one engine, each
 * answering `add`, measured as this process's RSS growth. One app started first (it compiles the
 * component and starts the shared thread) stays up and is not counted.
 */
async function main(): Promise<void> {
  const input = freshInput<ManyAppsInput>();
  const runtime = new Runtime({ dataDir: input.dataDir, engine: await benchEngine(input.engine, input.cacheDir), logger: silentLogger, warmWorkers: 0 });
  const first = await startHello(runtime, 'instance', 'first');
  await addOnce(first);
  const figure = await memoryOf(runtime, 'instance', input.count, input.budgetMs);
  process.stdout.write(`${JSON.stringify({ ...figure, note: `RSS growth of a fresh process, ${figure.started.toLocaleString('en-US')} apps` })}\n`);
  process.exit(0);
}

await main();
