import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { distPath } from '../../common/paths.js';
import { MAX_LIST_ELEMENTS } from '../../runtime/engine/value-limits.js';
import { fixturePath } from '../fixtures/build.js';
import { suiteTempDir } from '../support/tmp.js';

/**
 * The same attacks as heap.test.ts, in a Node process of their own (the built runtime in dist/),
 * so that an abort of the whole process shows as its exit code and Node's FATAL line here rather
 * than as a lost test fork: the runtime process must outlive every one, in every tier, and a
 * neighbour in it must still answer.
 */
const script = `
import { readFileSync } from 'node:fs';
const { Runtime } = await import(process.env.RUNTIME);
const wasm = (name) => readFileSync(process.env['FIXTURE_' + name]);
// The engine of the test project (vitest.config.ts): a Runtime made without one would run on jco.
const engine = process.env.BERTH_ENGINE === 'wasmtime'
  ? new (await import(process.env.WASMTIME_ENGINE)).WasmtimeEngine({ cacheDir: process.env.DATA_DIR + '/wasmtime-cache', library: process.env.BERTH_WASMTIME_LIBRARY })
  : undefined;
const runtime = new Runtime({ dataDir: process.env.DATA_DIR, engine });
const neighbour = await runtime.startApp(wasm('hello'), { vendor: 'neighbour', app: 'steady', grants: { log: {} }, tier: 'worker' });
const out = {};
for (const tier of ['instance', 'worker', 'process']) {
  const table = await runtime.startApp(wasm('tablebomb'), { vendor: 'mallory', app: 'leap-' + tier, grants: {}, tier });
  out[tier + ' grow-table'] = await table.invoke('grow-table', [9999999]);
  out[tier + ' fill-table'] = await table.invoke('fill-table', [100000]);
  await table.stop();
  const hoard = await runtime.startApp(wasm('handlebomb'), { vendor: 'mallory', app: 'hoard-' + tier, grants: { clocks: {} }, tier });
  out[tier + ' hoard'] = (await hoard.invoke('berth:fixtures/handles@0.1.0#hoard', [10000000])).failure?.kind;
  await hoard.stop();
  const timers = await runtime.startApp(wasm('handlebomb'), { vendor: 'mallory', app: 'timers-' + tier, grants: { clocks: {} }, tier });
  out[tier + ' hoard-timers'] = (await timers.invoke('hoard-timers', [10000000])).failure?.kind;
  await timers.stop();
  const horde = await runtime.startApp(wasm('bigvalue'), { vendor: 'mallory', app: 'horde-' + tier, grants: { log: {} }, tier });
  out[tier + ' words'] = (await horde.invoke('words', [8000000])).failure?.message;
  await horde.stop();
  out[tier + ' neighbour'] = await neighbour.invoke('add', [20, 22]);
}
await runtime.close();
console.log(JSON.stringify(out));
`;

const ENGINE = process.env.BERTH_ENGINE === 'wasmtime' ? 'wasmtime' : 'jco';

describe('hostile heap, the runtime in a process of its own', () => {
  it('outlives a table grown to the V8 ceiling, hoarded handles and a huge list in every tier, and its neighbour answers', () => {
    const env = {
      PATH: process.env.PATH,
      RUNTIME: pathToFileURL(distPath('runtime/runtime.js')).href,
      WASMTIME_ENGINE: pathToFileURL(distPath('runtime/engine/wasmtime/wasmtime-engine.js')).href,
      BERTH_ENGINE: ENGINE,
      BERTH_WASMTIME_LIBRARY: process.env.BERTH_WASMTIME_LIBRARY,
      DATA_DIR: suiteTempDir('heap-process'),
      FIXTURE_hello: fixturePath('hello'),
      FIXTURE_tablebomb: fixturePath('tablebomb'),
      FIXTURE_handlebomb: fixturePath('handlebomb'),
      FIXTURE_bigvalue: fixturePath('bigvalue'),
    };
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 120_000 });
    const fatal = child.stderr.split('\n').filter((l) => /FATAL|heap out of memory/.test(l));
    expect({ status: child.status, signal: child.signal, fatal }, child.stderr.slice(-2000)).toEqual({ status: 0, signal: null, fatal: [] });
    const out = JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    for (const tier of ['instance', 'worker', 'process']) {
      expect(out[`${tier} grow-table`]).toEqual({ ok: true, value: -1 });
      expect(out[`${tier} fill-table`]).toEqual({ ok: true, value: 200_001 });
      // Handles of the guest's own resource are not capped on Wasmtime (docs/engine.md, "Known gaps"): 10 million fit.
      expect(out[`${tier} hoard`]).toBe(ENGINE === 'wasmtime' ? undefined : 'trap');
      expect(out[`${tier} hoard-timers`]).toBe('trap');
      // Wasmtime refuses it first: its own budget for what one call copies between guest and host.
      if (ENGINE === 'wasmtime') expect(out[`${tier} words`]).toMatch(/^too much data is being copied between the host and the guest/);
      else expect(out[`${tier} words`]).toBe(`a list of 8000000 elements is over the limit of ${MAX_LIST_ELEMENTS}`);
      expect(out[`${tier} neighbour`]).toEqual({ ok: true, value: 42 });
    }
  }, 150_000);
});
