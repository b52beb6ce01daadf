import type { DesiredStateChanged } from '../desired-state/placement.js';
import { HttpProblem } from '../http/problem.js';
import * as deployments from '../store/deployments.js';
import { statusOfPlacements, upsertDeviceStatus, type DeviceDeploymentState, type DeviceStatusRow } from '../store/deployment-status.js';
import * as placements from '../store/placements.js';
import type { Queryable } from '../store/store.js';
import { advance } from './rollout.js';

export type DeviceReport = Omit<DeviceStatusRow, 'version'>;

/**
 * The device channel's entry point for `POST /api/v1/deployments/{id}/status`: records the report
 * against the version placed on the device now, and moves a rolling update on (or pauses it) in
 * the same transaction. `not-placed` when the deployment is not (or no longer) on that device;
 * `stale` (nothing recorded) when the report was adopted from a manifest older than the one that
 * carried the version placed now: it speaks of the version before.
 */
export async function recordDeviceStatus(tx: Queryable, report: DeviceReport, changed: DesiredStateChanged): Promise<'created' | 'updated' | 'not-placed' | 'stale'> {
  const placed = (await placements.placementsOfDevice(tx, report.deviceId)).find((p) => p.deploymentId === report.deploymentId);
  if (!placed) return 'not-placed';
  // Adopted from a manifest older than the one carrying the placed version: about the version before.
  const since = placed.sinceManifestVersion;
  if (since !== null && since !== undefined && report.adoptedManifestVersion !== null && report.adoptedManifestVersion < since) return 'stale';
  const result = await upsertDeviceStatus(tx, { ...report, version: placed.version });
  await advance(tx, report.deploymentId, changed);
  return result;
}

const STATES: DeviceDeploymentState[] = ['pending', 'installing', 'installed', 'failed', 'removing', 'removed'];

export interface DeploymentStatus {
  deploymentId: string;
  version: string;
  rollout: deployments.DeploymentRecord['rollout'];
  devices: number;
  counts: Record<DeviceDeploymentState, number>;
  /** Per version, when devices run more than one (during a rollout). */
  versions: Record<string, number>;
  errors: { deviceId: string; version: string; error: DeviceStatusRow['error'] }[];
  /** The last resource usage each device reported for the version placed on it now. */
  usage: Record<string, DeviceStatusRow['usage']>;
}

/** What operators see: how many placed devices are in each state, and the failures with their errors. */
export async function aggregateStatus(q: Queryable, deploymentId: string): Promise<DeploymentStatus> {
  const d = await deployments.getDeployment(q, deploymentId);
  if (!d) throw new HttpProblem(404, 'deployment.unknown', 'No such deployment', { detail: `no deployment '${deploymentId}'` });
  const rows = await statusOfPlacements(q, deploymentId);
  const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<DeviceDeploymentState, number>;
  const versions: Record<string, number> = {};
  for (const r of rows) {
    counts[r.state] += 1;
    versions[r.version] = (versions[r.version] ?? 0) + 1;
  }
  const errors = rows.filter((r) => r.state === 'failed').map((r) => ({ deviceId: r.deviceId, version: r.version, error: r.error }));
  const usage = Object.fromEntries(rows.filter((r) => r.usage).map((r) => [r.deviceId, r.usage]));
  return { deploymentId, version: d.version, rollout: d.rollout, devices: rows.length, counts, versions, errors, usage };
}
