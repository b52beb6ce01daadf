import type { EngineKind } from '../wire/engine.js';
import { benchEngine } from './engines.js';
import { freshInput, settle } from './fresh-process.js';
import { helloContext, loadGuest } from './runtime-guest.js';
import { AppInstance } from '../runtime/sandbox/app-instance.js';

/** Input of one memory measurement; the result is printed as one JSON line (`InstancesMemory`). */
export interface InstancesMemoryInput {
  engine: EngineKind;
  cacheDir: string;
  dataDir: string;
  count: number;
  budgetMs: number;
}

export interface InstancesMemory {
  started: number;
  bytesTotal: number;
}

/**
 * In a fresh process: `count` live `hello` instances on one engine in this one thread, each with
 * its own host objects and each answering `add`; RSS growth over what one instance already cost.
 */
async function main(): Promise<void> {
  const input = freshInput<InstancesMemoryInput>();
  const engine = await benchEngine(input.engine, input.cacheDir);
  const hello = await loadGuest(engine, 'hello');
  const first = AppInstance.create(hello.component, hello.imports, helloContext(input.dataDir, 'first'));
  first.invoke('add', [1, 2]);
  await settle(200);
  const before = process.memoryUsage().rss;
  const live: AppInstance[] = [first];
  const end = performance.now() + input.budgetMs;
  while (live.length - 1 < input.count && performance.now() < end)
    live.push(AppInstance.create(hello.component, hello.imports, helloContext(input.dataDir, `i${live.length}`)));
  for (const app of live) {
    const r = app.invoke('add', [2, 3]);
    if (!r.ok || r.value !== 5) throw new Error(`an instance answered ${JSON.stringify(r)}`);
  }
  await settle(300);
  const result: InstancesMemory = { started: live.length - 1, bytesTotal: process.memoryUsage().rss - before };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

await main();
