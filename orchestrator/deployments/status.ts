import type { DesiredStateChanged } from '../desired-state/placement.js';
import { HttpProblem } from '../http/problem.js';
import * as deployments from '../store/deployments.js';
import {
  recordReports,
  statusOfPlacements,
  type DeviceDeploymentState,
  type DeviceReport,
  type DeviceStatusRow,
  type ReportOutcome,
} from '../store/deployment-status.js';
import type { Queryable } from '../store/store.js';
import type { RolloutWave } from '../../wire/rollout.js';
import { DEVICE_DEPLOYMENT_STATES } from '../../wire/deployment.js';
import { advance } from './rollout.js';
import { rolloutWaves } from './rollout-waves.js';

export type { DeviceReport, ReportOutcome };

/**
 * The device channel's entry point for `POST /api/v1/deployments/{id}/status`: records reports
 * against the versions placed on their devices now (store/deployment-status.ts says which are
 * refused and why), and moves each rolling update they speak of on (or pauses it) in the same
 * transaction, once per deployment however many of its devices reported.
 */
export async function recordDeviceStatuses(tx: Queryable, reports: readonly DeviceReport[], changed: DesiredStateChanged): Promise<ReportOutcome[]> {
  const recorded = await recordReports(tx, reports);
  const rolling = new Set(
    reports.filter((r, i) => recorded[i]!.rolling && (recorded[i]!.outcome === 'created' || recorded[i]!.outcome === 'updated')).map((r) => r.deploymentId),
  );
  for (const deploymentId of rolling) await advance(tx, deploymentId, changed);
  return recorded.map((r) => r.outcome);
}

export async function recordDeviceStatus(tx: Queryable, report: DeviceReport, changed: DesiredStateChanged): Promise<ReportOutcome> {
  const [outcome] = await recordDeviceStatuses(tx, [report], changed);
  return outcome!;
}

export interface DeploymentStatus {
  deploymentId: string;
  version: string;
  rollout: deployments.DeploymentRecord['rollout'];
  devices: number;
  counts: Record<DeviceDeploymentState, number>;
  /** Per version, when devices run more than one (during a rollout). */
  versions: Record<string, number>;
  /** Per version, the devices placed on it that report it `installed`: a rollout's progress (berth rollout watch). */
  installed: Record<string, number>;
  /** The rollout's waves, moved and to come, with exact counts for the moved ones (berth rollout watch). */
  waves: RolloutWave[];
  errors: { deviceId: string; version: string; error: DeviceStatusRow['error'] }[];
  /** The last resource usage each device reported for the version placed on it now. */
  usage: Record<string, DeviceStatusRow['usage']>;
  /**
   * Devices whose last report names a version other than the one placed on them (a late report
   * on the old version, a device that went back to its last-known-good): what they run, by
   * their word. They count as `pending` on the placed version above (docs/deployments.md).
   */
  otherVersions: { deviceId: string; placedVersion: string; version: string; state: DeviceDeploymentState }[];
  /** Each placed device's last report, whichever version it names; absent until the device reports (the console's device table). */
  reports: Record<string, { version: string; state: DeviceDeploymentState }>;
}

/** What operators see: how many placed devices are in each state, and the failures with their errors. */
export async function aggregateStatus(q: Queryable, deploymentId: string): Promise<DeploymentStatus> {
  const d = await deployments.getDeployment(q, deploymentId);
  if (!d) throw new HttpProblem(404, 'deployment.unknown', 'No such deployment', { detail: `no deployment '${deploymentId}'` });
  const rows = await statusOfPlacements(q, deploymentId);
  const counts = Object.fromEntries(DEVICE_DEPLOYMENT_STATES.map((s) => [s, 0])) as Record<DeviceDeploymentState, number>;
  const versions: Record<string, number> = {};
  const installed: Record<string, number> = {};
  for (const r of rows) {
    counts[r.state] += 1;
    versions[r.version] = (versions[r.version] ?? 0) + 1;
    if (r.state === 'installed') installed[r.version] = (installed[r.version] ?? 0) + 1;
  }
  const errors = rows.filter((r) => r.state === 'failed').map((r) => ({ deviceId: r.deviceId, version: r.version, error: r.error }));
  const usage = Object.fromEntries(rows.filter((r) => r.usage).map((r) => [r.deviceId, r.usage]));
  const otherVersions = rows.flatMap((r) => (r.otherVersion ? [{ deviceId: r.deviceId, placedVersion: r.version, ...r.otherVersion }] : []));
  const reports = Object.fromEntries(
    rows.flatMap((r) => (r.otherVersion ? [[r.deviceId, r.otherVersion]] : r.reported ? [[r.deviceId, { version: r.version, state: r.state }]] : [])),
  );
  const waves = rolloutWaves(d, rows);
  return {
    deploymentId,
    version: d.version,
    rollout: d.rollout,
    devices: rows.length,
    counts,
    versions,
    installed,
    waves,
    errors,
    usage,
    otherVersions,
    reports,
  };
}
