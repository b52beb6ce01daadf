import type { UsageHistory } from '../../wire/usage-history.js';
import { seg, type Api } from './api.js';
import type { SparkPoint } from './sparkline.js';
import type { FleetApp } from './types.js';

/** How many points of each figure a device page draws per app: an hour at the control plane's one sample a minute. */
export const SERIES_POINTS = 60;

/** One app's figures over time, as a device page draws them. */
export interface UsageSeries {
  memory: SparkPoint[];
  cpu: SparkPoint[];
}

/**
 * Each app's history as the control plane kept it (GET .../devices/<id>/usage, docs/accounting.md),
 * one request per app so that a busy app cannot crowd another out of the answer's limit.
 */
export async function loadSeries(api: Api, deviceId: string, deploymentIds: readonly string[], signal: AbortSignal): Promise<Map<string, UsageSeries>> {
  const path = `/admin/devices/${deviceId.split('/').map(seg).join('/')}/usage`;
  const answers = await Promise.all(deploymentIds.map((d) => api.get<UsageHistory>(`${path}?deploymentId=${seg(d)}&limit=${SERIES_POINTS}`, signal)));
  const series = new Map<string, UsageSeries>();
  deploymentIds.forEach((d, i) => {
    const s: UsageSeries = { memory: [], cpu: [] };
    for (const sample of answers[i]!.samples) {
      if (sample.memoryBytes !== null) s.memory.push({ at: sample.at, value: sample.memoryBytes });
      if (sample.cpuBusyMs !== null) s.cpu.push({ at: sample.at, value: sample.cpuBusyMs });
    }
    series.set(d, s);
  });
  return series;
}

/**
 * Adds an app's last report, as the fleet answer shows it, when it is newer than the series'
 * last point: reports between two samples show at once, and a report already sampled (same
 * instant) is not drawn twice.
 */
export function appendLive(series: Map<string, UsageSeries>, app: FleetApp): void {
  const s = series.get(app.deploymentId) ?? { memory: [], cpu: [] };
  series.set(app.deploymentId, s);
  const memory = (app.usage?.memory as { bytes?: unknown } | undefined)?.bytes;
  const cpu = (app.usage?.cpu as { busyMs?: unknown } | undefined)?.busyMs;
  if (typeof memory === 'number') s.memory = append(s.memory, { at: app.reportedAt, value: memory });
  if (typeof cpu === 'number') s.cpu = append(s.cpu, { at: app.reportedAt, value: cpu });
}

function append(points: SparkPoint[], point: SparkPoint): SparkPoint[] {
  const last = points[points.length - 1];
  if (last && Date.parse(point.at) <= Date.parse(last.at)) return points;
  return [...points, point].slice(-SERIES_POINTS);
}
