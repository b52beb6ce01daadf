import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';

const exec = promisify(execFile);

interface Result {
  bench: string;
  figures: { name: string; value: number }[];
  notes: string[];
}

/**
 * `npm run bench -- advisory` is how docs/benchmarks.md's advisory figures are made (issue 14).
 * This run at five devices keeps it working end to end for both actions: the control plane in its
 * own process, every device installed on 1.1.0, the advisory filed through the API, every device
 * reacting and the store holding each one's report. No figure's size is asserted.
 */
describe('npm run bench -- advisory, five devices', () => {
  for (const action of ['rollback', 'stop'] as const) {
    it(`${action}: every device reacts, with no errors`, async () => {
      const args = ['advisory', '--devices', '5', '--timeout', '20', '--action', action];
      const { stdout } = await exec(process.execPath, [join(projectRoot(), 'bin', 'bench.js'), ...args], { timeout: 60_000 });
      const lines = stdout.trimEnd().split('\n');
      expect(lines[0]).toBe('# advisory');
      const result = (JSON.parse(lines.at(-1)!) as { results: Result[] }).results[0]!;
      const figure = (name: string) => result.figures.find((f) => f.name === name)?.value;
      expect(figure('devices')).toBe(5);
      expect(figure('errors')).toBe(0);
      for (const name of ['advisory POST', 'reacted p50', 'reacted max', 'total']) expect(figure(name), name).toBeGreaterThan(0);
      expect(figure('reacted p50')!).toBeLessThanOrEqual(figure('total')!);
      expect(result.notes).toContain(
        action === 'rollback' ? 'the store holds 5 reports of installed 1.0.0' : 'the store holds 5 reports of failed 1.1.0 (agent.advisory_refused)',
      );
    }, 90_000);
  }
});
