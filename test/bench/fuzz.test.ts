import { describe, expect, it } from 'vitest';
import { findingLine, runFuzz } from '../../bench/fuzz-run.js';

// `npm run bench -- fuzz` sends 100,000 generated requests; this short run with a fixed seed
// keeps the suite guarding the same targets: hostile paths, headers, bodies and framing, with
// every credential, on every route of the control plane, its mirror and the embedded registry,
// answered without a 5xx, a hang, a crash or an error-level log line.
describe('bench fuzz, short run', () => {
  it('answers 2,000 generated requests over every route with no 5xx, hang, crash or error-level log line', async () => {
    const report = await runFuzz({ requests: 2000, seconds: 180, seed: 'npm-test-1', concurrency: 8 });
    expect(report.sent).toBeGreaterThanOrEqual(report.routes);
    // One line each; the benchmark prints the reproducers: `npm run bench -- fuzz --seed npm-test-1 --requests 2000 --concurrency 8`.
    expect(report.findings.map(findingLine)).toEqual([]);
    expect(report.errorLineSamples.map((l) => `${l.name} ${l.msg} ${l.err} ${l.method} ${l.path}`)).toEqual([]);
    expect({ serverErrors: report.serverErrors, hangs: report.hangs, crashes: report.crashes, errorLines: report.errorLines }).toEqual({
      serverErrors: 0,
      hangs: 0,
      crashes: 0,
      errorLines: 0,
    });
  }, 300_000);
});
