/** A point of a line: when, and the figure then. */
export interface SparkPoint {
  at: string;
  value: number;
}

/**
 * A small line of numbers as inline SVG (no image request, so the CSP's img-src is not involved),
 * with the figures and the span of time in its accessible name: the picture only repeats them.
 */
export function sparkline(points: readonly SparkPoint[], label: string, format: (n: number) => string): Element | string {
  if (points.length < 2) return points.length ? format(points[0]!.value) : '—';
  const values = points.map((p) => p.value);
  const ns = 'http://www.w3.org/2000/svg';
  const [width, height] = [120, 24];
  const min = Math.min(...values);
  const span = Math.max(...values) - min || 1;
  const xy = values.map((v, i) => `${((i / (values.length - 1)) * width).toFixed(1)},${(height - 2 - ((v - min) / span) * (height - 4)).toFixed(1)}`);
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('role', 'img');
  const [first, last] = [points[0]!, points[points.length - 1]!];
  svg.setAttribute(
    'aria-label',
    `${label}: from ${format(first.value)} to ${format(last.value)} over ${points.length} samples, ${clock(first.at)} to ${clock(last.at)}`,
  );
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', xy.join(' '));
  line.setAttribute('class', 'spark');
  svg.appendChild(line);
  return svg;
}

/** A sample's time of day, as the operator's locale writes it. */
function clock(at: string): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
