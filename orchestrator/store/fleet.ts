import type { DeviceStatus } from './devices.js';
import type { DeviceDeploymentState } from './deployment-status.js';
import type { Queryable } from './store.js';

/** One app on a device, as the device last reported it (docs/console.md, "Fleet overview"). */
export interface FleetApp {
  deploymentId: string;
  appId: string;
  /** The version the device last reported on, which during a rollout may differ from the one placed. */
  version: string;
  state: DeviceDeploymentState;
  /** What the device reported of the app's resource use with that report (docs/accounting.md), if anything. */
  usage: Record<string, unknown> | null;
  reportedAt: Date;
}

/** A device as the console's fleet overview shows it: what the store knows, nothing derived. */
export interface FleetDevice {
  id: string;
  status: DeviceStatus;
  labels: Record<string, string>;
  createdAt: Date;
  /** `healthy` or `unknown` (docs/scheduling.md "Health"); null when never tracked. */
  health: 'healthy' | 'unknown' | null;
  /** The device's last manifest read as its replica last flushed it (within one reconcile interval); null if never. */
  lastSeenAt: Date | null;
  /** The latest expiry among its active certificates; null when it holds none. */
  certificateNotAfter: Date | null;
  apps: FleetApp[];
}

interface DeviceRow {
  id: string;
  status: DeviceStatus;
  labels: Record<string, string>;
  createdAt: Date;
  health: FleetDevice['health'];
  lastSeenAt: Date | null;
  certificateNotAfter: Date | null;
}

/** Every device with its health, last poll, certificate expiry and apps: two queries whatever the fleet size. */
export async function fleetOverview(q: Queryable): Promise<FleetDevice[]> {
  const devices = await q.query<DeviceRow>(
    `SELECT d.id, d.status, d.labels, d.created_at AS "createdAt", h.health, h.last_seen_at AS "lastSeenAt",
            (SELECT max(c.not_after) FROM device_certificates c WHERE c.device_id = d.id AND c.state = 'active') AS "certificateNotAfter"
     FROM devices d LEFT JOIN device_health h ON h.device_id = d.id
     ORDER BY d.id`,
  );
  const apps = await q.query<FleetApp & { deviceId: string }>(
    `SELECT s.device_id AS "deviceId", s.deployment_id AS "deploymentId", dep.app_id AS "appId", s.version, s.state,
            s.usage, s.updated_at AS "reportedAt"
     FROM deployment_device_status s JOIN deployments dep ON dep.id = s.deployment_id
     ORDER BY s.device_id, s.deployment_id`,
  );
  const byDevice = new Map<string, FleetApp[]>();
  for (const { deviceId, ...app } of apps) byDevice.set(deviceId, [...(byDevice.get(deviceId) ?? []), app]);
  return devices.map((d) => ({ ...d, apps: byDevice.get(d.id) ?? [] }));
}
