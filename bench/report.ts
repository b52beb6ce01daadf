/**
 * What every benchmark returns: named figures with units, plus the machine they ran on.
 * The runner prints a readable table and then one JSON object as the last line, so that
 * scripts can take `tail -1` and people can read the rest.
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export interface BenchResult {
  bench: string;
  figures: Figure[];
  notes?: string[];
  /** The benchmark's own structured results, for scripts reading the JSON line. */
  data?: unknown;
}

export interface Machine {
  date: string;
  node: string;
  platform: string;
  cpus: string;
  cores: number;
  memoryGiB: number;
}

export async function describeMachine(): Promise<Machine> {
  const os = await import('node:os');
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

export function formatTable(result: BenchResult): string {
  const rows = result.figures.map((f) => [f.name, formatValue(f.value), f.unit, f.note ?? '']);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['figure', 'value', 'unit', 'note'][i]!.length));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [`# ${result.bench}`, line(['figure', 'value', 'unit', 'note']), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  for (const n of result.notes ?? []) out.push(`note: ${n}`);
  return out.join('\n');
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** Percentile of an unsorted sample (nearest-rank). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
