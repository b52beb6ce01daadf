import { join } from 'node:path';
import { BerthError } from '../common/errors.js';
import type { Engine } from '../runtime/engine/engine.js';
import { JcoEngine } from '../runtime/engine/jco/jco-engine.js';
import { locateWasmtimeLibrary } from '../runtime/engine/wasmtime/library.js';
import { WasmtimeEngine } from '../runtime/engine/wasmtime/wasmtime-engine.js';
import { ENGINES, type EngineKind } from '../wire/engine.js';

/** The engines the benchmarks measure side by side, in the order they are reported. */
export const BENCH_ENGINES: readonly EngineKind[] = ['jco', 'wasmtime'];

let library: Promise<string> | undefined;

/** The pinned Wasmtime library, found as Berth finds it; missing, the benchmark says how to get it. */
export function wasmtimeLibrary(): Promise<string> {
  library ??= locateWasmtimeLibrary({}).then((found) => {
    if ('missing' in found) throw new BerthError('bench.engine-unavailable', `the Wasmtime engine cannot be benchmarked: ${found.missing}`);
    return found.path;
  });
  return library;
}

/** A fresh engine of `kind` keeping its compiled artifacts under `cacheDir`. */
export async function benchEngine(kind: EngineKind, cacheDir: string): Promise<Engine> {
  if (kind === 'jco') return new JcoEngine({ cacheDir });
  return new WasmtimeEngine({ cacheDir: join(cacheDir, 'wasmtime'), library: await wasmtimeLibrary() });
}

/** `--engines jco,wasmtime` (both by default), refused when it names an engine Berth does not have. */
export function enginesFromArgs(argv: string[]): EngineKind[] {
  const at = argv.indexOf('--engines');
  if (at === -1) return [...BENCH_ENGINES];
  const listed = (argv[at + 1] ?? '').split(',').filter(Boolean);
  if (listed.length === 0) throw new BerthError('bench.invalid-option', `--engines needs a list: ${ENGINES.join(',')}`);
  for (const e of listed)
    if (!(ENGINES as readonly string[]).includes(e))
      throw new BerthError('bench.invalid-option', `--engines: unknown engine '${e}'; engines: ${ENGINES.join(', ')}`);
  return BENCH_ENGINES.filter((e) => listed.includes(e));
}
