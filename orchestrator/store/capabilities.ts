import type { DeviceCapabilities } from '../../wire/margo/capabilities.js';
import type { Queryable } from './store.js';
import { jsonParam } from './sanitise.js';

/** Stores a device's reported capabilities; `true` when this is the first report. */
export async function putCapabilities(q: Queryable, deviceId: string, manifest: DeviceCapabilities): Promise<boolean> {
  const rows = await q.query<{ created: boolean }>(
    `INSERT INTO device_capabilities (device_id, manifest) VALUES ($1, $2::jsonb)
     ON CONFLICT (device_id) DO UPDATE SET manifest = EXCLUDED.manifest, updated_at = now()
     RETURNING (xmax = 0) AS created`,
    [deviceId, jsonParam(manifest)],
  );
  return rows[0]?.created === true;
}

/** Unregisters; `false` when there was nothing reported. */
export async function deleteCapabilities(q: Queryable, deviceId: string): Promise<boolean> {
  const rows = await q.query('DELETE FROM device_capabilities WHERE device_id = $1 RETURNING device_id', [deviceId]);
  return rows.length > 0;
}

export async function getCapabilities(q: Queryable, deviceId: string): Promise<DeviceCapabilities | undefined> {
  const rows = await q.query<{ manifest: DeviceCapabilities }>('SELECT manifest FROM device_capabilities WHERE device_id = $1', [deviceId]);
  return rows[0]?.manifest;
}

/** Every device's capabilities, for the scheduler. */
export async function listCapabilities(q: Queryable): Promise<Map<string, DeviceCapabilities>> {
  const rows = await q.query<{ device_id: string; manifest: DeviceCapabilities }>('SELECT device_id, manifest FROM device_capabilities');
  return new Map(rows.map((r) => [r.device_id, r.manifest]));
}
