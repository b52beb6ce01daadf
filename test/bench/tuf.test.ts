import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';

const exec = promisify(execFile);

/**
 * `npm run bench -- tuf` is how docs/benchmarks.md's TUF figures are made (issue 16). This
 * `--quick` run keeps it working end to end: a control plane, the root ceremony, devices' update
 * rounds; every figure present and the target judged. No figure's size is asserted.
 */
describe('npm run bench -- tuf --quick', () => {
  it('times update rounds with nothing changed and after a change, and judges the 50 ms target', async () => {
    const { stdout } = await exec(process.execPath, [join(projectRoot(), 'bin', 'bench.js'), 'tuf', '--quick'], { timeout: 120_000 });
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('# tuf');
    const result = (JSON.parse(lines.at(-1)!) as { results: { figures: { name: string; value: number }[]; notes: string[] }[] }).results[0]!;
    for (const name of [
      'update round, nothing changed, new TLS connection',
      'update round, nothing changed, kept-alive connection',
      'update round after a trust document changed',
    ])
      for (const p of ['p50', 'p95']) expect(result.figures.find((f) => f.name === `${name}, ${p}`)?.value, `${name}, ${p}`).toBeGreaterThan(0);
    expect(result.notes[0]).toMatch(/^target \(issue 16\): a round with nothing changed under 50 ms: (met|NOT met) \(p50 [\d.]+ ms/);
  }, 150_000);
});
