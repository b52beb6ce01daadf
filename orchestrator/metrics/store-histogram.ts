import type { Metric, Registry } from 'prom-client';

/** A histogram's figures as the store counts them: cumulative counts per upper bound, then count and sum. */
export interface HistogramFigures {
  /** `buckets[i]` counts the values `<= bounds[i]` (cumulative, as Prometheus exposes them). */
  buckets: number[];
  count: number;
  sum: number;
}

/**
 * SQL computing `HistogramFigures` over the column `v` of `inner` in one pass, with the bounds as
 * `$1::float8[]` (`inner` must not use `$1` itself). One row: `count`, `sum`, `b0` … `b<n-1>`.
 */
export function histogramSql(inner: string, bounds: number): string {
  const columns = Array.from({ length: bounds }, (_, i) => `count(*) FILTER (WHERE v <= ($1::float8[])[${i + 1}])::float8 AS b${i}`);
  return `WITH x AS (${inner}) SELECT count(*)::float8 AS count, coalesce(sum(v), 0)::float8 AS sum, ${columns.join(', ')} FROM x`;
}

/** Reads the one row `histogramSql` returns. */
export function histogramFigures(row: Record<string, unknown> | undefined, bounds: number): HistogramFigures {
  return {
    buckets: Array.from({ length: bounds }, (_, i) => Number(row?.[`b${i}`] ?? 0)),
    count: Number(row?.count ?? 0),
    sum: Number(row?.sum ?? 0),
  };
}

interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A histogram whose figures are computed elsewhere (by the store, over every device) and read
 * at scrape: prom-client's Histogram only takes one observation at a time, and observing a
 * hundred thousand device ages at each scrape would cost more than the one query that counts them.
 * Exposed exactly as a histogram (`_bucket{le}`, `_sum`, `_count`); no series while `read`
 * returns undefined (the store could not be read).
 */
export class StoreHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
    private readonly read: () => Promise<HistogramFigures | undefined>,
  ) {}

  registerIn(registry: Registry): void {
    // The registry only calls get(); prom-client's types list its own classes, hence the cast.
    registry.registerMetric(this as unknown as Metric);
  }

  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] }> {
    const figures = await this.read();
    const values: Sample[] = figures
      ? [
          ...this.bounds.map((le, i) => ({ metricName: `${this.name}_bucket`, labels: { le }, value: figures.buckets[i] ?? 0 })),
          { metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: figures.count },
          { metricName: `${this.name}_sum`, labels: {}, value: figures.sum },
          { metricName: `${this.name}_count`, labels: {}, value: figures.count },
        ]
      : [];
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }
}
