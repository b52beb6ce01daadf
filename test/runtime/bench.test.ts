import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';

const exec = promisify(execFile);

/**
 * `npm run bench -- runtime` is how the runtime's figures in docs/benchmarks.md are made. This
 * runs its short form to keep it working and measuring what docs/benchmarks.md records; it
 * asserts no figure's size (a loaded CI machine says nothing about the targets), only that each
 * one is there and is a positive, finite number.
 */
describe('npm run bench -- runtime', () => {
  it('prints a table, then one JSON object as its last line with every runtime figure', async () => {
    const { stdout } = await exec(process.execPath, [join(projectRoot(), 'bin', 'bench.js'), 'runtime', '--quick'], { timeout: 150_000 });
    const lines = stdout.trimEnd().split('\n');
    const report = JSON.parse(lines.at(-1)!) as { machine: { date: string; node: string }; results: { bench: string; figures: { name: string; value: number; unit: string }[] }[] };
    expect(report.machine.node).toBe(process.version);
    expect(report.results.map((r) => r.bench)).toEqual(['runtime']);
    const figures = report.results[0]!.figures;
    // What the runtime's benchmark must measure: transpile, compile, instantiate p50/p99 with
    // the modules cached, host calls (direct and bridged), cold start into a fresh worker and
    // into a pre-started one, and the kill of a runaway app.
    for (const wanted of [/^transpile/, /^compile/, /^instantiate p50/, /^instantiate p99/, /direct/, /sync bridge/, /cold start, fresh/, /cold start, pre-started/, /^kill/]) {
      const figure = figures.find((f) => wanted.test(f.name));
      expect(figure, `a figure matching ${wanted}`).toBeDefined();
      expect(Number.isFinite(figure!.value) && figure!.value > 0, `${figure!.name} = ${figure!.value}`).toBe(true);
    }
    // The readable table comes first, one row per figure.
    expect(lines[0]).toBe('# runtime');
    for (const f of figures) expect(lines.some((l) => l.startsWith(f.name))).toBe(true);
  }, 180_000);
});
