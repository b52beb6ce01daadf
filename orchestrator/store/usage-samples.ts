import type { UsageHistoryQuery, UsageSample } from '../../wire/usage-history.js';
import type { Queryable } from './store.js';

/**
 * The usage history (migration 18): a few figures of each usage report devices send with their
 * status, at most one sample per device and deployment per interval (wire/usage-history.ts). A
 * report inside the interval adds no sample: the newest figures are the status row's own `usage`,
 * so nothing is lost to the console, and a sample's time is always when its figures were reported.
 */

/**
 * The data-modifying CTE deployment-status.ts's `recordReports` adds to its one statement, so a
 * report's sample costs no round trip of its own. `reports` names a relation with the report's
 * `verdict`, `device_id`, `deployment_id`, `version` and `usage` (jsonb text); `interval` is the
 * parameter holding the interval in seconds. ON CONFLICT: two replicas racing on the same
 * device's reports at the same instant keep one.
 */
export function sampleUsageSql(reports: string, interval: string): string {
  return `INSERT INTO device_usage_samples (device_id, deployment_id, version, memory_bytes, cpu_busy_ms, bytes_in, bytes_out, restarts)
     SELECT r.device_id, r.deployment_id, r.version,
            berth_usage_figure(r.usage::jsonb, '{memory,bytes}'), berth_usage_figure(r.usage::jsonb, '{cpu,busyMs}'),
            berth_usage_figure(r.usage::jsonb, '{bytes,in}'), berth_usage_figure(r.usage::jsonb, '{bytes,out}'),
            berth_usage_figure(r.usage::jsonb, '{restarts}')
     FROM ${reports} r
     WHERE r.verdict = 'record' AND r.usage IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM device_usage_samples s
       WHERE s.device_id = r.device_id AND s.deployment_id = r.deployment_id AND s.at > now() - make_interval(secs => ${interval}))
     ON CONFLICT DO NOTHING`;
}

interface Row {
  deployment_id: string;
  version: string;
  at: Date;
  memory_bytes: number | null;
  cpu_busy_ms: number | null;
  bytes_in: number | null;
  bytes_out: number | null;
  restarts: number | null;
}

const toSample = (r: Row): UsageSample => ({
  deploymentId: r.deployment_id,
  version: r.version,
  at: new Date(r.at).toISOString(),
  memoryBytes: r.memory_bytes,
  cpuBusyMs: r.cpu_busy_ms,
  bytesIn: r.bytes_in,
  bytesOut: r.bytes_out,
  restarts: r.restarts,
});

/** A device's newest `limit` samples matching the query, oldest first, and whether older ones matched too. */
export async function usageHistoryOf(q: Queryable, deviceId: string, query: UsageHistoryQuery): Promise<{ samples: UsageSample[]; truncated: boolean }> {
  const params: unknown[] = [deviceId];
  const bind = (v: unknown): string => `$${params.push(v)}`;
  const where = ['device_id = $1'];
  // Epoch seconds, not the text: every instant the query admits is one PostgreSQL takes.
  if (query.since !== undefined) where.push(`at >= to_timestamp(${bind(Date.parse(query.since) / 1000)}::double precision)`);
  if (query.deploymentId !== undefined) where.push(`deployment_id = ${bind(query.deploymentId)}`);
  const rows = await q.query<Row>(
    `SELECT deployment_id, version, at, memory_bytes, cpu_busy_ms, bytes_in, bytes_out, restarts FROM device_usage_samples
     WHERE ${where.join(' AND ')} ORDER BY at DESC, deployment_id DESC LIMIT ${bind(query.limit + 1)}`,
    params,
  );
  return { samples: rows.slice(0, query.limit).reverse().map(toSample), truncated: rows.length > query.limit };
}

/** Forgets samples older than `days` (the reconcile pass, with the run history's retention); how many. */
export async function pruneUsageSamples(q: Queryable, days: number): Promise<number> {
  const rows = await q.query('DELETE FROM device_usage_samples WHERE at < now() - make_interval(days => $1) RETURNING at', [days]);
  return rows.length;
}
