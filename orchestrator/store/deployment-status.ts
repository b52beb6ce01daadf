import type { Queryable } from './store.js';

export type DeviceDeploymentState = 'pending' | 'installing' | 'installed' | 'failed' | 'removing' | 'removed';

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

export async function upsertDeviceStatus(q: Queryable, s: DeviceStatusRow): Promise<'created' | 'updated'> {
  const rows = await q.query<{ inserted: boolean }>(
    `INSERT INTO deployment_device_status (deployment_id, device_id, version, state, error, components, adopted_manifest_version, usage)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (deployment_id, device_id) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state, error = EXCLUDED.error,
       components = EXCLUDED.components, adopted_manifest_version = EXCLUDED.adopted_manifest_version,
       usage = coalesce(EXCLUDED.usage, deployment_device_status.usage), updated_at = now()
     RETURNING (xmax = 0) AS inserted`,
    [s.deploymentId, s.deviceId, s.version, s.state, s.error && JSON.stringify(s.error), JSON.stringify(s.components), s.adoptedManifestVersion, s.usage ? JSON.stringify(s.usage) : null],
  );
  return rows[0]?.inserted ? 'created' : 'updated';
}

/**
 * Each placed device of a deployment with its last report, if that report is about the version
 * placed now; a device that has not reported on its current version counts as pending.
 */
export async function statusOfPlacements(q: Queryable, deploymentId: string): Promise<{ deviceId: string; version: string; state: DeviceDeploymentState; error: DeviceStatusRow['error']; usage: DeviceStatusRow['usage'] }[]> {
  return q.query(
    `SELECT p.device_id AS "deviceId", p.version,
            CASE WHEN s.version = p.version THEN s.state ELSE 'pending' END AS state,
            CASE WHEN s.version = p.version THEN s.error ELSE NULL END AS error,
            CASE WHEN s.version = p.version THEN s.usage ELSE NULL END AS usage
     FROM placements p LEFT JOIN deployment_device_status s ON s.deployment_id = p.deployment_id AND s.device_id = p.device_id
     WHERE p.deployment_id = $1 ORDER BY p.device_id`,
    [deploymentId],
  );
}
