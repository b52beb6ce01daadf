import type { Queryable } from './store.js';

/** One row per (deployment, device): which app version of the deployment the device should run. */
export interface PlacementRow {
  deploymentId: string;
  deviceId: string;
  version: string;
  /** The device's manifestVersion that first carried this version (null: not known). */
  sinceManifestVersion?: number | null;
  /** The wave of a rolling update that moved it to this version (absent: not moved by a wave). */
  wave?: number;
}

export async function placementsOfDeployment(q: Queryable, deploymentId: string): Promise<PlacementRow[]> {
  return q.query<PlacementRow>(
    'SELECT deployment_id AS "deploymentId", device_id AS "deviceId", version FROM placements WHERE deployment_id = $1 ORDER BY device_id',
    [deploymentId],
  );
}

export async function placementsOfDevice(q: Queryable, deviceId: string): Promise<PlacementRow[]> {
  return q.query<PlacementRow>(
    `SELECT deployment_id AS "deploymentId", device_id AS "deviceId", version, since_manifest_version::float8 AS "sinceManifestVersion"
     FROM placements WHERE device_id = $1 ORDER BY deployment_id`,
    [deviceId],
  );
}

/**
 * Inserts or changes the version of many placements in one statement (the scheduler's batch
 * write). Any write but a wave's clears the wave: the placement no longer is that wave's move.
 */
export async function upsertPlacements(q: Queryable, rows: readonly PlacementRow[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO placements (deployment_id, device_id, version, rollout_wave)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[])
     ON CONFLICT (deployment_id, device_id) DO UPDATE
       SET version = EXCLUDED.version, rollout_wave = EXCLUDED.rollout_wave, since_manifest_version = NULL, updated_at = now()`,
    [rows.map((r) => r.deploymentId), rows.map((r) => r.deviceId), rows.map((r) => r.version), rows.map((r) => r.wave ?? null)],
  );
}

export async function deletePlacements(q: Queryable, deploymentId: string, deviceIds: readonly string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  await q.query('DELETE FROM placements WHERE deployment_id = $1 AND device_id = ANY($2::text[])', [deploymentId, deviceIds]);
  await q.query('DELETE FROM deployment_device_status WHERE deployment_id = $1 AND device_id = ANY($2::text[])', [deploymentId, deviceIds]);
}

/**
 * After the desired-state side rendered these devices' new manifests (in this transaction): the
 * manifestVersion that carries each placement's current version, so older reports are told apart.
 */
export async function stampManifestVersions(q: Queryable, deploymentId: string, deviceIds: readonly string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  await q.query(
    `UPDATE placements p SET since_manifest_version = s.manifest_version
     FROM device_desired_state s
     WHERE s.device_id = p.device_id AND p.deployment_id = $1 AND p.device_id = ANY($2::text[]) AND p.since_manifest_version IS NULL`,
    [deploymentId, deviceIds],
  );
}
