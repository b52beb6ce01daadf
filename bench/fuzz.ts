import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { runFuzz, type FuzzReport } from './fuzz-run.js';
import type { BenchResult } from './report.js';

/**
 * `npm run bench -- fuzz [--requests N] [--seconds S] [--seed X] [--concurrency C]`: generated
 * requests against every route of a real control plane, its mirror and the embedded registry
 * (bench/fuzz-run.ts). Targets: 0 answers 5xx, 0 hangs, 0 crashes, 0 error-level log lines.
 */
export async function run(argv: string[]): Promise<BenchResult> {
  const { values } = parseArgs({
    args: argv,
    options: { requests: { type: 'string' }, seconds: { type: 'string' }, seed: { type: 'string' }, concurrency: { type: 'string' } },
  });
  const seed = values.seed ?? randomBytes(6).toString('hex');
  const report = await runFuzz({
    requests: positive(values.requests, 100_000, '--requests'),
    seconds: positive(values.seconds, 600, '--seconds'),
    concurrency: positive(values.concurrency, 16, '--concurrency'),
    seed,
    progress: (line) => process.stderr.write(line + '\n'),
  });
  printFindings(report);
  return {
    bench: 'fuzz',
    figures: [
      { name: 'requests sent', value: report.sent, unit: '', note: `${report.routes} routes, seed ${report.seed}` },
      { name: 'throughput', value: report.perSecond, unit: 'req/s', note: `${report.seconds.toFixed(0)} s` },
      { name: 'answers 5xx', value: report.serverErrors, unit: '', note: 'target 0' },
      { name: 'hangs', value: report.hangs, unit: '', note: 'no answer within 10 s; target 0' },
      { name: 'crashes', value: report.crashes, unit: '', note: 'server process gone; target 0' },
      { name: 'error-level log lines', value: report.errorLines, unit: '', note: 'control plane and registry; target 0' },
      ...Object.entries(report.statuses).map(([status, n]) => ({ name: `status ${status}`, value: n, unit: '' })),
      ...Object.entries(report.closed).map(([why, n]) => ({
        name: `no answer: ${why}`,
        value: n,
        unit: '',
        note: 'connection closed by the server or refused by the client',
      })),
    ],
    notes: [`seed ${report.seed} (repeat with --seed ${report.seed})`],
  };
}

function printFindings(report: FuzzReport): void {
  const out = (s: string) => process.stderr.write(s + '\n');
  for (const f of report.findings.slice(0, 40)) {
    out(`finding: ${f.kind} ${f.status ?? ''} ${f.code ?? ''} ×${f.count} on ${f.target} ${f.route}`);
    out(`  reproduce: ${JSON.stringify(f.reproducer)}`);
  }
  for (const l of report.errorLineSamples) out(`error line: ${JSON.stringify(l)}`);
}

function positive(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, not '${text}'`);
  return n;
}
