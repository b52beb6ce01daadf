/**
 * A small line of numbers as inline SVG (no image request, so the CSP's img-src is not involved),
 * with the figures in its accessible name: the picture only repeats them.
 */
export function sparkline(values: readonly number[], label: string): Element | string {
  if (values.length < 2) return values.length ? `${Math.round(values[0]!)} ms` : '—';
  const ns = 'http://www.w3.org/2000/svg';
  const [width, height] = [120, 24];
  const min = Math.min(...values);
  const span = Math.max(...values) - min || 1;
  const points = values.map((v, i) => `${((i / (values.length - 1)) * width).toFixed(1)},${(height - 2 - ((v - min) / span) * (height - 4)).toFixed(1)}`);
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${label}: from ${Math.round(values[0]!)} to ${Math.round(values[values.length - 1]!)} over ${values.length} samples`);
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', points.join(' '));
  line.setAttribute('class', 'spark');
  svg.appendChild(line);
  return svg;
}
