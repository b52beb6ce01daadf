import type { Digest } from '../../common/digest.js';
import { ADVISORY_REFUSED_CODE } from '../../wire/margo/status.js';
import type { AdvisoryRecord } from '../store/advisories.js';
import type { Queryable } from '../store/store.js';
import { runsAround, type AppRun } from '../store/runs.js';
import { affectedVersions, affects, namedBy } from './matching.js';

/** What a device does now about one deployment an advisory touched. */
export type NowState = 'running-affected' | 'running-unaffected' | 'stopped-by-advisory' | 'failed' | 'removed';

export interface ExposedDeployment {
  deploymentId: string;
  app: string;
  /** Each stretch of time the device ran an affected version; `to` null while it still does. */
  exposed: { version: string; digest: string | null; from: string; to: string | null }[];
  now: { state: NowState; version: string; since: string; code?: string };
}

export interface DeviceExposure {
  deviceId: string;
  /** The value of the grouping label (`site` unless asked otherwise); null without one. */
  group: string | null;
  /** When the control plane last heard from a device it counts as gone quiet; null if it is heard from. */
  offlineSince: string | null;
  deployments: ExposedDeployment[];
}

export interface ExposureReport {
  advisory: string;
  generatedAt: string;
  groupBy: string;
  devices: DeviceExposure[];
  /** Per label value: devices that ran an affected version, and those still running one now. */
  groups: { group: string | null; devices: number; exposedNow: number }[];
}

interface DeviceFacts {
  labels: Record<string, string>;
  health: string | null;
  lastSeenAt: Date | null;
}

/**
 * Every device that ran a version the advisory affects, from when to when, and what it runs now,
 * from the run history the status reports keep (migration 14). Versions retired since are still
 * matched by app and range (the history keeps app and version), by digest if it was known.
 */
export async function exposureReport(q: Queryable, advisory: AdvisoryRecord, groupBy: string): Promise<ExposureReport> {
  const named = namedBy(advisory);
  // By purl, only admitted versions can be matched (their SBOMs are kept): their digests find the runs.
  const admitted = new Set<string>((await affectedVersions(q, advisory)).map((v) => v.digest));
  const digests = [...new Set([...named.digests, ...admitted])];
  const runs = await runsAround(q, named.apps, digests);
  const hit = (r: AppRun) =>
    (r.digest !== null && admitted.has(r.digest)) ||
    (r.vendor !== null && affects(advisory, { appId: r.appId, vendor: r.vendor, version: r.version, digest: (r.digest ?? '') as Digest }));
  const byDevice = new Map<string, Map<string, AppRun[]>>();
  for (const r of runs) {
    const deployments = byDevice.get(r.deviceId) ?? new Map<string, AppRun[]>();
    deployments.set(r.deploymentId, [...(deployments.get(r.deploymentId) ?? []), r]);
    byDevice.set(r.deviceId, deployments);
  }
  const facts = await deviceFacts(q, [...byDevice.keys()]);
  const devices: DeviceExposure[] = [];
  for (const [deviceId, deployments] of byDevice) {
    const exposedDeployments = [...deployments.values()].filter((list) => list.some(hit)).map((list) => exposedDeployment(list, hit));
    if (exposedDeployments.length === 0) continue;
    const f = facts.get(deviceId);
    devices.push({
      deviceId,
      group: f?.labels[groupBy] ?? null,
      offlineSince: f?.health === 'unknown' && f.lastSeenAt ? f.lastSeenAt.toISOString() : null,
      deployments: exposedDeployments,
    });
  }
  return { advisory: advisory.id, generatedAt: new Date().toISOString(), groupBy, devices, groups: groupsOf(devices) };
}

function exposedDeployment(runs: readonly AppRun[], hit: (r: AppRun) => boolean): ExposedDeployment {
  const last = runs[runs.length - 1]!;
  return {
    deploymentId: last.deploymentId,
    app: last.appId,
    exposed: runs.filter(hit).map((r) => ({ version: r.version, digest: r.digest, from: r.startedAt.toISOString(), to: r.endedAt?.toISOString() ?? null })),
    now: nowOf(last, hit(last)),
  };
}

function nowOf(last: AppRun, affected: boolean): ExposedDeployment['now'] {
  if (!last.endedAt) return { state: affected ? 'running-affected' : 'running-unaffected', version: last.version, since: last.startedAt.toISOString() };
  const state: NowState = last.endCode === ADVISORY_REFUSED_CODE ? 'stopped-by-advisory' : last.endState === 'failed' ? 'failed' : 'removed';
  return { state, version: last.version, since: last.endedAt.toISOString(), ...(last.endCode ? { code: last.endCode } : {}) };
}

function groupsOf(devices: readonly DeviceExposure[]): ExposureReport['groups'] {
  const groups = new Map<string | null, { devices: number; exposedNow: number }>();
  for (const d of devices) {
    const g = groups.get(d.group) ?? { devices: 0, exposedNow: 0 };
    g.devices++;
    if (d.deployments.some((x) => x.now.state === 'running-affected')) g.exposedNow++;
    groups.set(d.group, g);
  }
  return [...groups].map(([group, g]) => ({ group, ...g })).sort((a, b) => String(a.group).localeCompare(String(b.group)));
}

async function deviceFacts(q: Queryable, ids: readonly string[]): Promise<Map<string, DeviceFacts>> {
  const rows = await q.query<{ id: string; labels: Record<string, string>; health: string | null; last_seen_at: Date | null }>(
    `SELECT d.id, d.labels, h.health, h.last_seen_at FROM devices d LEFT JOIN device_health h ON h.device_id = d.id WHERE d.id = ANY($1::text[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, { labels: r.labels, health: r.health, lastSeenAt: r.last_seen_at && new Date(r.last_seen_at) }]));
}

const CSV_HEADER = ['device_id', 'group', 'offline_since', 'deployment_id', 'app', 'version', 'digest', 'from', 'to', 'now', 'now_version', 'now_since'];

/** One line per exposed stretch, RFC 4180 quoting; a cell that a spreadsheet would run as a formula is prefixed with '. */
export function exposureCsv(report: ExposureReport): string {
  const lines = [CSV_HEADER.join(',')];
  for (const d of report.devices)
    for (const x of d.deployments)
      for (const e of x.exposed)
        lines.push(
          [d.deviceId, d.group, d.offlineSince, x.deploymentId, x.app, e.version, e.digest, e.from, e.to, x.now.state, x.now.version, x.now.since]
            .map(cell)
            .join(','),
        );
  return lines.join('\r\n') + '\r\n';
}

function cell(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
