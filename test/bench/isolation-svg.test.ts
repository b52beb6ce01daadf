import { describe, expect, it } from 'vitest';
import type { IsolationData, Measured } from '../../bench/isolation-doc.js';
import { renderChart, wrapLabel } from '../../bench/isolation-svg.js';

const MiB = 2 ** 20;
const measured = (coldMs: number, memoryMiB?: number, extra: Partial<Measured> = {}): Measured => ({
  coldMs: [coldMs],
  invokeUs: [],
  ...(memoryMiB ? { memory: { started: 10, bytesTotal: memoryMiB * MiB * 10, note: '' } } : {}),
  ...extra,
});
const data = (columns: Record<string, Measured>): IsolationData => ({
  machine: { date: '2026-12-02T00:00:00Z', node: 'v20', platform: 'linux', cpus: 'x', cores: 2, memoryGiB: 8 },
  load: { before: [0.4], after: [0.8] },
  oci: 'runc',
  ociTried: [],
  measured: columns,
  probes: {},
  quick: false,
});

interface Text {
  x: number;
  y: number;
  text: string;
  size: number;
  panel: number;
}

/** The chart's text elements, each panel's offset applied; `panel` -1 for those outside the panels. */
function texts(svg: string): Text[] {
  const out: Text[] = [];
  const collect = (part: string, offset: number, panel: number) => {
    for (const m of part.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)) {
      const attr = (name: string) => new RegExp(`${name}="([\\d.]+)"`).exec(m[1]!)?.[1];
      out.push({ x: Number(attr('x')) + offset, y: Number(attr('y')), text: m[2]!, size: Number(attr('font-size') ?? 12), panel });
    }
  };
  const panels = [...svg.matchAll(/<g(?: transform="translate\((\d+),0\)")?>([\s\S]*?)<\/g>/g)];
  panels.forEach((g, i) => collect(g[2]!, Number(g[1] ?? 0), i));
  collect(svg.replace(/<g[\s\S]*?<\/g>/g, ''), 0, -1);
  return out;
}

/** Whether two centred labels on one line would print over each other (~0.55 em per character). */
function overlap(a: Text, b: Text): boolean {
  if (a.y !== b.y || a.panel !== b.panel) return false;
  const half = (t: Text) => (t.text.length * t.size * 0.55) / 2;
  return Math.abs(a.x - b.x) < half(a) + half(b);
}

function overlapping(svg: string): string[] {
  const all = texts(svg).filter((t) => t.text.trim());
  const found: string[] = [];
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++) if (overlap(all[i]!, all[j]!)) found.push(`'${all[i]!.text}' / '${all[j]!.text}'`);
  return found;
}

describe('the isolation chart', () => {
  it('wraps long column labels at spaces', () => {
    expect(wrapLabel('worker, pre-started thread', 12)).toEqual(['worker,', 'pre-started', 'thread']);
    expect(wrapLabel('container + limits', 12)).toEqual(['container +', 'limits']);
    expect(wrapLabel('instance', 12)).toEqual(['instance']);
  });

  it("prints no label over another with today's five columns", () => {
    const svg = renderChart(
      data({
        instance: measured(1.25, 0.25),
        worker: measured(39.1, 7.96),
        process: measured(120, 58.3),
        'worker, pre-started thread': measured(6.31),
        container: measured(39.2, 0.68),
      }),
    );
    expect(overlapping(svg)).toEqual([]);
    for (const line of ['worker,', 'pre-started', 'thread', 'container']) expect(texts(svg).some((t) => t.text === line)).toBe(true);
    expect(svg).not.toContain('jco'); // no engines in the data: no legend
  });

  it('groups bars per column by engine, coloured by engine with a legend, when the data names engines', () => {
    const columns: Record<string, Measured> = { container: measured(39.2, 0.68) };
    for (const engine of ['jco', 'wasmtime']) {
      for (const [tier, cold, mem] of [
        ['instance', 1.25, 0.25],
        ['worker', 39.1, 7.96],
        ['process', 120, 58.3],
      ] as const) {
        columns[`${tier} (${engine})`] = measured(engine === 'jco' ? cold : cold / 10, mem, { engine, column: tier });
      }
      columns[`worker, pre-started thread (${engine})`] = measured(6.31, undefined, { engine, column: 'worker, pre-started thread' });
    }
    const svg = renderChart(data(columns));
    expect(overlapping(svg)).toEqual([]);
    // One label per column, not per bar.
    expect(texts(svg).filter((t) => t.text === 'worker').length).toBe(2);
    expect(texts(svg).filter((t) => t.text === 'instance (jco)').length).toBe(0);
    const fills = (engine: string) =>
      [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="\d+" height="[\d.]+" fill="(#[0-9a-f]+)"><title>[^<]*\((\w+)\)/g)]
        .filter((m) => m[2] === engine)
        .map((m) => m[1]);
    expect(fills('jco')).toHaveLength(7); // 4 cold starts, 3 memory figures
    expect(new Set(fills('jco')).size).toBe(1);
    expect(new Set(fills('wasmtime')).size).toBe(1);
    expect(fills('jco')[0]).not.toBe(fills('wasmtime')[0]);
    // The legend names each engine once, beside a swatch of its colour.
    for (const engine of ['jco', 'wasmtime']) expect(texts(svg).filter((t) => t.text === engine)).toHaveLength(1);
    // The wasmtime bar of a column sits right of its jco bar, inside the same column.
    const x = (title: string) => Number(new RegExp(`<rect x="([\\d.]+)"[^>]*><title>${title.replace(/[()]/g, '\\$&')}:`).exec(svg)![1]);
    expect(x('worker (wasmtime)') - x('worker (jco)')).toBeGreaterThan(0);
    expect(x('worker (wasmtime)') - x('worker (jco)')).toBeLessThan(40);
  });
});
