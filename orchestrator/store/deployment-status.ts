import type { Queryable } from './store.js';
import { jsonParam } from './sanitise.js';
import { USAGE_SAMPLE_INTERVAL_SECONDS } from '../../wire/usage-history.js';
import { sampleUsageSql } from './usage-samples.js';
import type { DeviceDeploymentState } from '../../wire/deployment.js';

export type { DeviceDeploymentState };

export interface DeviceStatusRow {
  deploymentId: string;
  deviceId: string;
  version: string;
  state: DeviceDeploymentState;
  error: { code?: string; source?: string; message?: string } | null;
  components: unknown[];
  adoptedManifestVersion: number | null;
  /** What the device reported of the app's resource usage with this status, if anything. */
  usage?: Record<string, unknown> | null;
}

/**
 * A device's report as it arrives. `version` is the version the device says it runs
 * (`x-berth-extensions.version`); a report without one is about the version placed on the
 * device now. A report naming another version (late news of the old one, a device that rolled
 * back) is recorded as what it is and never counts as the placed version's (docs/deployments.md).
 */
export type DeviceReport = Omit<DeviceStatusRow, 'version'> & { version?: string | null };

/**
 * What became of one report: recorded (`created`/`updated`), or not, because the deployment is
 * not placed on the device, the report was adopted from a manifest older than the one carrying
 * the version placed now (`stale`: it speaks of the version before), or from a manifestVersion
 * the device was never given (`ahead`).
 */
export type ReportOutcome = 'created' | 'updated' | 'not-placed' | 'stale' | 'ahead';

export interface RecordedReport {
  outcome: ReportOutcome;
  /** The deployment is in a rolling update, which this report may move on. */
  rolling: boolean;
}

/**
 * Records many devices' reports in one statement: each checked against its device's manifest and
 * placement, and written only when it passes; a recorded report's usage is sampled into the
 * usage history in the same statement (store/usage-samples.ts). One statement instead of four
 * per report is what lets 10,000 devices report within seconds (docs/desired-state.md "Status
 * reports"). No two reports may name the same deployment and device (an upsert touches a row
 * once per statement, and so does the sample's insert).
 */
export async function recordReports(q: Queryable, reports: readonly DeviceReport[]): Promise<RecordedReport[]> {
  if (reports.length === 0) return [];
  const rows = await q.query<{ i: number; outcome: ReportOutcome; rolling: boolean }>(
    `WITH r AS (
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[])
         AS r(i, deployment_id, device_id, state, error, components, adopted, usage, reported)
     ), j AS (
       SELECT r.*, p.version AS placed,
         CASE
           WHEN m.manifest_version IS NOT NULL AND r.adopted > m.manifest_version THEN 'ahead'
           WHEN p.version IS NULL THEN 'not-placed'
           WHEN p.since_manifest_version IS NOT NULL AND r.adopted IS NOT NULL AND r.adopted < p.since_manifest_version THEN 'stale'
           ELSE 'record'
         END AS verdict
       FROM r
       LEFT JOIN device_desired_state m ON m.device_id = r.device_id
       LEFT JOIN placements p ON p.deployment_id = r.deployment_id AND p.device_id = r.device_id
     ), written AS (
       INSERT INTO deployment_device_status (deployment_id, device_id, version, state, error, components, adopted_manifest_version, usage)
       SELECT deployment_id, device_id, coalesce(reported, placed), state, error::jsonb, components::jsonb, adopted, usage::jsonb FROM j WHERE verdict = 'record'
       ON CONFLICT (deployment_id, device_id) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state, error = EXCLUDED.error,
         components = EXCLUDED.components, adopted_manifest_version = EXCLUDED.adopted_manifest_version,
         usage = coalesce(EXCLUDED.usage, deployment_device_status.usage), updated_at = now()
       RETURNING deployment_id, device_id, (xmax = 0) AS inserted
     ), sampled AS (
       ${sampleUsageSql('(SELECT j.*, coalesce(j.reported, j.placed) AS version FROM j)', '$10')}
     )
     SELECT j.i, CASE WHEN j.verdict <> 'record' THEN j.verdict WHEN w.inserted THEN 'created' ELSE 'updated' END AS outcome,
            coalesce(d.rollout_state = 'rolling', false) AS rolling
     FROM j
     LEFT JOIN written w ON w.deployment_id = j.deployment_id AND w.device_id = j.device_id
     LEFT JOIN deployments d ON d.id = j.deployment_id
     ORDER BY j.i`,
    [
      reports.map((_, i) => i),
      reports.map((r) => r.deploymentId),
      reports.map((r) => r.deviceId),
      reports.map((r) => r.state),
      reports.map((r) => jsonParam(r.error)),
      reports.map((r) => jsonParam(r.components)),
      reports.map((r) => r.adoptedManifestVersion),
      reports.map((r) => jsonParam(r.usage)),
      reports.map((r) => r.version ?? null),
      USAGE_SAMPLE_INTERVAL_SECONDS,
    ],
  );
  return rows.map((r) => ({ outcome: r.outcome, rolling: r.rolling }));
}

/** A placed device and its last report, as far as it speaks of the version placed now. */
export interface PlacementStatus {
  deviceId: string;
  /** The version placed on the device. */
  version: string;
  /** Its state on the placed version: `pending` until the device reports on that version. */
  state: DeviceDeploymentState;
  error: DeviceStatusRow['error'];
  usage: DeviceStatusRow['usage'];
  /** The device's last report when it named another version than the placed one, else null. */
  otherVersion: { version: string; state: DeviceDeploymentState } | null;
  /** Whether the device has reported on this deployment at all (on any version). */
  reported: boolean;
  /** The wave of a rolling update that moved the device to the placed version, else null. */
  wave: number | null;
}

/**
 * Each placed device of a deployment with its last report, if that report is about the version
 * placed now; a device that has not reported on its current version counts as pending.
 */
export async function statusOfPlacements(q: Queryable, deploymentId: string): Promise<PlacementStatus[]> {
  return q.query(
    `SELECT p.device_id AS "deviceId", p.version, p.rollout_wave AS wave,
            CASE WHEN s.version <> p.version THEN jsonb_build_object('version', s.version, 'state', s.state) END AS "otherVersion",
            CASE WHEN s.version = p.version THEN s.state ELSE 'pending' END AS state,
            CASE WHEN s.version = p.version THEN s.error ELSE NULL END AS error,
            CASE WHEN s.version = p.version THEN s.usage ELSE NULL END AS usage,
            s.device_id IS NOT NULL AS reported
     FROM placements p LEFT JOIN deployment_device_status s ON s.deployment_id = p.deployment_id AND s.device_id = p.device_id
     WHERE p.deployment_id = $1 ORDER BY p.device_id`,
    [deploymentId],
  );
}
