import { stringify } from 'yaml';
import { UsageError } from './usage.js';

/**
 * How API commands print what the control plane answered: an aligned table for people by
 * default, or the answer itself with -o json / -o yaml for scripts (docs/cli.md).
 */
export type OutputFormat = 'table' | 'json' | 'yaml';

export const OUTPUT_OPTIONS = { output: { type: 'string', short: 'o' } } as const;
export const OUTPUT_HELP = '  -o, --output <f>           table (default), json or yaml';

export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'table') return 'table';
  if (value === 'json' || value === 'yaml') return value;
  throw new UsageError(`-o must be table, json or yaml, not '${value}'`);
}

/** For commands with no table (yet), which have always printed JSON: json by default, or yaml. */
export function dataFormat(value: string | undefined): 'json' | 'yaml' {
  if (value === undefined || value === 'json' || value === 'yaml') return value ?? 'json';
  throw new UsageError(`-o must be json or yaml, not '${value}'`);
}

export const DATA_OUTPUT_HELP = '  -o, --output <f>           json (default) or yaml';

/** One column: its header and how to read its cell from a row. */
export interface Column<T> {
  header: string;
  cell: (row: T) => unknown;
}

/** A cell as text: nothing is '-', lists are comma-separated, objects compact JSON, all on one line. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (Array.isArray(v)) return v.length ? v.map(cellText).join(',') : '-';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return Object.keys(v).length ? JSON.stringify(v) : '-';
  return String(v).replace(/\s+/g, ' ');
}

/** Rows under upper-case headers, columns two spaces apart, no trailing blanks (as kubectl prints). */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [columns.map((c) => c.header.toUpperCase()), ...rows.map((r) => columns.map((c) => cellText(c.cell(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((text, i) => (i === line.length - 1 ? text : text.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** `key  value` lines for one record (a `show`), keys aligned. */
export function fields(pairs: readonly [string, unknown][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${cellText(v)}`).join('\n') + '\n';
}

/** Writes `data` as asked: JSON or YAML as the control plane sent it, else what `human` makes of it. */
export function print(format: OutputFormat, data: unknown, human: () => string): void {
  if (format === 'json') process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  else if (format === 'yaml') process.stdout.write(stringify(data));
  else process.stdout.write(human());
}
