import { perInstance, type IsolationData } from './isolation-doc.js';
import { percentile } from './report.js';

interface Bar {
  label: string;
  value: number;
}

const COLOURS: Record<string, string> = { instance: '#2b8a3e', worker: '#1971c2', process: '#e67700', container: '#868e96' };
const PANEL = { width: 380, height: 300, left: 60, right: 16, top: 44, bottom: 44 };

/** Two bar panels, log scale: cold start p50 (ms) and memory per instance (MiB). Hand-written SVG. */
export function renderChart(d: IsolationData): string {
  const entries = Object.entries(d.measured);
  const cold: Bar[] = entries.map(([label, m]) => ({ label, value: percentile(m.coldMs, 50) }));
  const memory: Bar[] = entries.filter(([, m]) => m.memory).map(([label, m]) => ({ label, value: perInstance(m) / 2 ** 20 }));
  const width = PANEL.width * 2;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL.height + 24}" viewBox="0 0 ${width} ${PANEL.height + 24}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    panel(cold, 0, 'Cold start to first result, p50 (ms)', 'ms'),
    panel(memory, PANEL.width, 'Resident memory per instance (MiB)', 'MiB'),
    `<text x="${width / 2}" y="${PANEL.height + 16}" text-anchor="middle" fill="#495057" font-size="11">log scale · ${escape(d.machine.date.slice(0, 10))} · ${d.machine.cores} cores · load ${d.load.before[0]!.toFixed(1)}→${d.load.after[0]!.toFixed(1)} · ${escape(d.oci ?? 'no container runtime')}</text>`,
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}

function panel(bars: Bar[], x0: number, title: string, unit: string): string {
  const plotW = PANEL.width - PANEL.left - PANEL.right;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const values = bars.map((b) => b.value).filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...values, 1)));
  const span = Math.max(1, hi - lo);
  const y = (v: number) => PANEL.top + plotH - ((Math.log10(v) - lo) / span) * plotH;
  const out = [`<g transform="translate(${x0},0)">`, `<text x="${PANEL.width / 2}" y="22" text-anchor="middle" font-weight="bold">${escape(title)}</text>`];
  for (let e = lo; e <= lo + span; e++) {
    const yy = y(10 ** e).toFixed(1);
    out.push(`<line x1="${PANEL.left}" x2="${PANEL.width - PANEL.right}" y1="${yy}" y2="${yy}" stroke="#dee2e6"/>`);
    out.push(`<text x="${PANEL.left - 6}" y="${yy}" dy="4" text-anchor="end" fill="#495057">${label(10 ** e)}</text>`);
  }
  const slot = plotW / Math.max(1, bars.length);
  bars.forEach((b, i) => {
    const cx = PANEL.left + slot * i + slot / 2;
    const bw = Math.min(56, slot * 0.6);
    if (b.value > 0 && Number.isFinite(b.value)) {
      const top = y(b.value);
      out.push(`<rect x="${(cx - bw / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${(PANEL.top + plotH - top).toFixed(1)}" fill="${COLOURS[b.label] ?? '#495057'}"/>`);
      out.push(`<text x="${cx.toFixed(1)}" y="${(top - 5).toFixed(1)}" text-anchor="middle">${label(b.value)} ${unit}</text>`);
    }
    out.push(`<text x="${cx.toFixed(1)}" y="${PANEL.top + plotH + 18}" text-anchor="middle">${escape(b.label)}</text>`);
  });
  out.push(`<line x1="${PANEL.left}" x2="${PANEL.width - PANEL.right}" y1="${PANEL.top + plotH}" y2="${PANEL.top + plotH}" stroke="#495057"/>`, '</g>');
  return out.join('\n');
}

function label(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 1) return v.toFixed(1);
  return v.toPrecision(2);
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
