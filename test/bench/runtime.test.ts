import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BENCH_ENGINES, enginesFromArgs } from '../../bench/engines.js';
import type { RuntimeData } from '../../bench/runtime.js';
import { projectRoot } from '../../common/paths.js';

const exec = promisify(execFile);

/**
 * `npm run bench -- runtime` makes docs/benchmarks.md's runtime figures for both engines in one
 * run. This short run keeps it working: every figure of every engine is there and measured, and
 * Wasmtime's targets are judged. (It replaces test/runtime/bench.test.ts, which ran once per engine
 * project although the benchmark measures both engines itself.) No figure's size is asserted (that is the benchmark's business).
 */
describe('npm run bench -- runtime, short run', () => {
  it('measures every figure on both engines in one run and judges the Wasmtime targets', async () => {
    const { stdout } = await exec(process.execPath, [join(projectRoot(), 'bin', 'bench.js'), 'runtime', '--quick'], {
      timeout: 240_000,
      maxBuffer: 16 * 2 ** 20,
    });
    const lines = stdout.trimEnd().split('\n');
    const json = JSON.parse(lines.at(-1)!) as {
      machine: { node: string };
      results: { bench: string; figures: { name: string; value: number }[]; notes: string[]; data: RuntimeData }[];
    };
    expect(json.machine.node).toBe(process.version);
    expect(json.results.map((r) => r.bench)).toEqual(['runtime']);
    const [result] = json.results;
    const data = result!.data;
    expect(data.engines.map((e) => e.engine)).toEqual(['jco', 'wasmtime']);
    const perEngine = [
      'compile, cold',
      'compile, cached on disk',
      'instantiate p50',
      'instantiate p99',
      'export call add',
      'host call',
      'memory per live instance',
      'instances in 1 GiB',
      'cold start, fresh worker',
      'cold start, pre-started worker',
      'runaway past its deadline, worker, max',
      'stop a runaway app',
    ];
    const names = result!.figures.map((f) => f.name);
    for (const engine of BENCH_ENGINES) for (const figure of perEngine) expect(names, `${engine}: ${figure}`).toContain(`${engine}: ${figure}`);
    // Only Wasmtime stops a guest inside its own thread; jco's runaway would never return there.
    expect(names).toContain('wasmtime: runaway past its deadline, in-thread, max');
    expect(names).not.toContain('jco: runaway past its deadline, in-thread, max');
    for (const f of result!.figures) expect(Number.isFinite(f.value), `${f.name}: ${f.value}`).toBe(true);
    // The readable table comes first, one row per figure; the engine-neutral bridge figures too.
    expect(lines[0]).toBe('# runtime');
    for (const f of result!.figures)
      expect(
        lines.some((l) => l.startsWith(f.name)),
        f.name,
      ).toBe(true);
    expect(names).toEqual(expect.arrayContaining(['host call in a worker, V8 import', 'host call in a worker, sync bridge']));
    for (const e of data.engines) {
      expect(e.memory.started, `${e.engine} live instances`).toBeGreaterThan(0);
      expect(e.guest.instantiateMs.length).toBeGreaterThan(0);
    }
    // Each of issue 13's Wasmtime targets is judged, as met or not, in the notes.
    for (const what of ['instantiate p50 of hello ≤', 'host call ≤', 'live instances in 1 GiB ≥', 'runaway past its deadline, worst in-thread ≤']) {
      expect(
        result!.notes.some((n) => n.startsWith(`target: wasmtime: ${what}`) && / — (met|NOT met)$/.test(n)),
        what,
      ).toBe(true);
    }
  }, 300_000);

  it('takes the engines to measure from --engines, refusing one Berth does not have', () => {
    expect(enginesFromArgs([])).toEqual(['jco', 'wasmtime']);
    expect(enginesFromArgs(['--engines', 'wasmtime'])).toEqual(['wasmtime']);
    expect(() => enginesFromArgs(['--engines', 'v8'])).toThrow(/unknown engine 'v8'/);
    expect(() => enginesFromArgs(['--engines'])).toThrow(/--engines needs a list/);
  });
});
