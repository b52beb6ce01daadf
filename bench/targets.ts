/**
 * A benchmark target (issue 13's "Done when"): reported as met or not met beside the figure it
 * judges, never asserted by a test (performance is the benchmark's business).
 */
export interface Target {
  what: string;
  value: number;
  unit: string;
  /** `max`: the value must be at most `limit`; `min`: at least. */
  bound: 'max' | 'min';
  limit: number;
  met: boolean;
}

export function target(what: string, value: number, unit: string, bound: 'max' | 'min', limit: number): Target {
  const met = Number.isFinite(value) && (bound === 'max' ? value <= limit : value >= limit);
  return { what, value, unit, bound, limit, met };
}

/** `wasmtime: instantiate p50 of hello ≤ 0.03 ms: 0.041 ms — not met`. */
export function targetLine(t: Target): string {
  const measured = Number.isFinite(t.value) ? `${show(t.value)} ${t.unit}` : 'not measured';
  return `target: ${t.what} ${t.bound === 'max' ? '≤' : '≥'} ${show(t.limit)} ${t.unit}: ${measured} — ${t.met ? 'met' : 'NOT met'}`;
}

function show(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}
