import { perInstance, type IsolationData, type Measured } from './isolation-doc.js';
import { percentile } from './report.js';

/** One bar: the column (tier, or the container) it belongs to and, when measured per engine, its engine. */
export interface Bar {
  column: string;
  engine?: string;
  value: number;
}

const COLUMN_COLOURS: Record<string, string> = { instance: '#2b8a3e', worker: '#1971c2', process: '#e67700', container: '#868e96' };
/** By engine, in the order engines first appear; anything measured without an engine is grey. */
const ENGINE_COLOURS = ['#1971c2', '#e67700', '#2b8a3e', '#ae3ec9'];
const NO_ENGINE = '#868e96';
const OTHER = '#495057';
const LAYOUT = { height: 340, left: 56, right: 16, top: 56, bottom: 64, titleY: 22, legendY: 40 };
/** Bar width alone in its column, and side by side with other engines'. */
const BAR = { single: 44, grouped: 28, gap: 4 };
/** A column is at least this wide, so its label fits in a few short lines. */
const MIN_COLUMN = 88;
/** Characters per line of a column label at 12 px (a sans-serif character is ~6.5 px wide). */
const LABEL_CHARS = 12;

/** Bars of one figure from the measured columns: a column's key names it unless it says otherwise. */
export function barsOf(measured: Record<string, Measured>, value: (m: Measured) => number): Bar[] {
  return Object.entries(measured).map(([key, m]) => ({ column: m.column ?? key, ...(m.engine ? { engine: m.engine } : {}), value: value(m) }));
}

/**
 * Two bar panels, log scale: cold start p50 (ms) and memory per instance (MiB). Hand-written SVG.
 * Bars are grouped by column (tier, or the container); when the data names engines, each group
 * holds one bar per engine, coloured by engine, with a legend.
 */
export function renderChart(d: IsolationData): string {
  const cold = barsOf(d.measured, (m) => percentile(m.coldMs, 50));
  const memory = barsOf(Object.fromEntries(Object.entries(d.measured).filter(([, m]) => m.memory)), (m) => perInstance(m) / 2 ** 20);
  const engines = [...new Set([...cold, ...memory].flatMap((b) => (b.engine ? [b.engine] : [])))];
  const left = panel(cold, engines, 'Cold start to first result, p50 (ms)');
  const right = panel(memory, engines, 'Resident memory per instance (MiB)');
  const width = left.width + right.width;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${LAYOUT.height + 24}" viewBox="0 0 ${width} ${LAYOUT.height + 24}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<g>${left.svg}</g>`,
    `<g transform="translate(${left.width},0)">${right.svg}</g>`,
    ...legend(engines, width),
    `<text x="${width / 2}" y="${LAYOUT.height + 16}" text-anchor="middle" fill="${OTHER}" font-size="11">log scale · ${escape(d.machine.date.slice(0, 10))} · ${d.machine.cores} cores · load ${d.load.before[0]!.toFixed(1)}→${d.load.after[0]!.toFixed(1)} · ${escape(d.oci ?? 'no container runtime')}</text>`,
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}

interface Column {
  name: string;
  bars: Bar[];
  width: number;
}

/** Columns in the order they first appear, each with its bars in engine order. */
function columnsOf(bars: Bar[], engines: string[]): Column[] {
  const byName = new Map<string, Bar[]>();
  for (const b of bars) byName.set(b.column, [...(byName.get(b.column) ?? []), b]);
  const rank = (b: Bar) => (b.engine ? engines.indexOf(b.engine) : engines.length);
  return [...byName].map(([name, group]) => {
    const sorted = [...group].sort((a, b) => rank(a) - rank(b));
    const barW = sorted.length > 1 ? BAR.grouped : BAR.single;
    return { name, bars: sorted, width: Math.max(MIN_COLUMN, sorted.length * (barW + BAR.gap) + 24) };
  });
}

function panel(bars: Bar[], engines: string[], title: string): { svg: string; width: number } {
  const columns = columnsOf(bars, engines);
  const plotW = columns.reduce((w, c) => w + c.width, 0);
  const width = LAYOUT.left + plotW + LAYOUT.right;
  const plotH = LAYOUT.height - LAYOUT.top - LAYOUT.bottom;
  const base = LAYOUT.top + plotH;
  const values = bars.map((b) => b.value).filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...values, 1)));
  const span = Math.max(1, hi - lo);
  const y = (v: number) => base - ((Math.log10(v) - lo) / span) * plotH;
  const out = [`<text x="${width / 2}" y="${LAYOUT.titleY}" text-anchor="middle" font-weight="bold">${escape(title)}</text>`];
  for (let e = lo; e <= lo + span; e++) {
    const yy = y(10 ** e).toFixed(1);
    out.push(`<line x1="${LAYOUT.left}" x2="${width - LAYOUT.right}" y1="${yy}" y2="${yy}" stroke="#dee2e6"/>`);
    out.push(`<text x="${LAYOUT.left - 6}" y="${yy}" dy="4" text-anchor="end" fill="${OTHER}">${label(10 ** e)}</text>`);
  }
  let x0 = LAYOUT.left;
  for (const column of columns) {
    const barW = column.bars.length > 1 ? BAR.grouped : BAR.single;
    const groupW = column.bars.length * barW + (column.bars.length - 1) * BAR.gap;
    const cx = x0 + column.width / 2;
    column.bars.forEach((b, i) => {
      if (!(b.value > 0 && Number.isFinite(b.value))) return;
      const x = cx - groupW / 2 + i * (barW + BAR.gap);
      const top = y(b.value);
      out.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW}" height="${(base - top).toFixed(1)}" fill="${colour(b, engines)}"><title>${escape(`${b.column}${b.engine ? ` (${b.engine})` : ''}: ${label(b.value)}`)}</title></rect>`,
      );
      out.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${(top - 5).toFixed(1)}" text-anchor="middle" font-size="${column.bars.length > 1 ? 10 : 12}">${label(b.value)}</text>`,
      );
    });
    wrapLabel(column.name, LABEL_CHARS).forEach((line, i) =>
      out.push(`<text x="${cx.toFixed(1)}" y="${base + 18 + i * 14}" text-anchor="middle">${escape(line)}</text>`),
    );
    x0 += column.width;
  }
  out.push(`<line x1="${LAYOUT.left}" x2="${width - LAYOUT.right}" y1="${base}" y2="${base}" stroke="${OTHER}"/>`);
  return { svg: out.join('\n'), width };
}

function colour(b: Bar, engines: string[]): string {
  if (engines.length === 0) return COLUMN_COLOURS[b.column] ?? OTHER;
  return b.engine ? ENGINE_COLOURS[engines.indexOf(b.engine) % ENGINE_COLOURS.length]! : NO_ENGINE;
}

/** One swatch per engine, centred under the titles; none when the data names no engine. */
function legend(engines: string[], width: number): string[] {
  if (engines.length === 0) return [];
  const itemW = (name: string) => 22 + name.length * 7 + 16;
  let x = width / 2 - engines.reduce((w, e) => w + itemW(e), 0) / 2;
  const out: string[] = [];
  for (const [i, engine] of engines.entries()) {
    out.push(`<rect x="${x.toFixed(1)}" y="${LAYOUT.legendY - 9}" width="12" height="12" fill="${ENGINE_COLOURS[i % ENGINE_COLOURS.length]}"/>`);
    out.push(`<text x="${(x + 18).toFixed(1)}" y="${LAYOUT.legendY + 1}">${escape(engine)}</text>`);
    x += itemW(engine);
  }
  return out;
}

/** Splits a label at spaces into lines of at most `max` characters (a longer word keeps its own line). */
export function wrapLabel(text: string, max: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= max) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

function label(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 1) return v.toFixed(1);
  return v.toPrecision(2);
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
