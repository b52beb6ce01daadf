import type { Queryable } from './store.js';
import { jsonParam } from './sanitise.js';
import type { DeviceStatus } from '../../wire/fleet.js';

export type { DeviceStatus };

export interface DeviceRecord {
  id: string;
  status: DeviceStatus;
  labels: Record<string, string>;
  onboardingMethod: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

/** One of the names a device is known by: `factory-cert` (SHA-256 of the DER leaf), `serial`, `mac`, ... */
export interface DeviceIdentifier {
  kind: string;
  value: string;
}

interface DeviceRow {
  id: string;
  status: DeviceStatus;
  labels: Record<string, string>;
  onboarding_method: string;
  created_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

const toDevice = (r: DeviceRow): DeviceRecord => ({
  id: r.id,
  status: r.status,
  labels: r.labels,
  onboardingMethod: r.onboarding_method,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  revokedReason: r.revoked_reason,
});

/** Inserts a device; false when the id is taken (the caller decides whether that is a duplicate). */
export async function insertDevice(q: Queryable, d: { id: string; status: DeviceStatus; labels: Record<string, string>; method: string }): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO devices (id, status, labels, onboarding_method) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [d.id, d.status, jsonParam(d.labels), d.method],
  );
  return rows.length === 1;
}

export async function getDevice(q: Queryable, id: string, forUpdate = false): Promise<DeviceRecord | undefined> {
  const rows = await q.query<DeviceRow>(`SELECT * FROM devices WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] && toDevice(rows[0]);
}

export async function listDevices(q: Queryable): Promise<DeviceRecord[]> {
  return (await q.query<DeviceRow>('SELECT * FROM devices ORDER BY id')).map(toDevice);
}

export async function setDeviceStatus(q: Queryable, id: string, status: DeviceStatus, reason?: string): Promise<boolean> {
  const rows = await q.query(
    `UPDATE devices SET status = $2, updated_at = now(),
       revoked_at = CASE WHEN $2 = 'revoked' THEN now() ELSE revoked_at END,
       revoked_reason = CASE WHEN $2 = 'revoked' THEN $3 ELSE revoked_reason END
     WHERE id = $1 RETURNING id`,
    [id, status, reason ?? null],
  );
  return rows.length === 1;
}

/** Records identifiers for a device; an identifier already held by another device is left alone and returned. */
export async function addIdentifiers(q: Queryable, deviceId: string, ids: readonly DeviceIdentifier[]): Promise<DeviceIdentifier[]> {
  const conflicts: DeviceIdentifier[] = [];
  for (const id of ids) {
    const rows = await q.query<{ device_id: string }>(
      `INSERT INTO device_identifiers (kind, value, device_id) VALUES ($1, $2, $3)
       ON CONFLICT (kind, value) DO UPDATE SET kind = EXCLUDED.kind RETURNING device_id`,
      [id.kind, id.value, deviceId],
    );
    if (rows[0]?.device_id !== deviceId) conflicts.push(id);
  }
  return conflicts;
}

/** The distinct device ids the given identifiers already point to (zero, one, or a conflict). */
export async function resolveIdentifiers(q: Queryable, ids: readonly DeviceIdentifier[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await q.query<{ device_id: string }>(
    `SELECT DISTINCT device_id FROM device_identifiers
     WHERE (kind, value) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [ids.map((i) => i.kind), ids.map((i) => i.value)],
  );
  return rows.map((r) => r.device_id).sort();
}

export async function identifiersOf(q: Queryable, deviceId: string): Promise<DeviceIdentifier[]> {
  return q.query<DeviceIdentifier>('SELECT kind, value FROM device_identifiers WHERE device_id = $1 ORDER BY kind, value', [deviceId]);
}

/** Any fixed number: every replica takes the same advisory lock while it claims a device id. */
const DEVICE_ID_LOCK = 0x62657277;

/**
 * Serialises device-id claims for the rest of the transaction, so two onboardings racing for
 * `gw` and `gw/child` cannot both see the other absent.
 */
export async function lockDeviceIds(q: Queryable): Promise<void> {
  await q.query('SELECT pg_advisory_xact_lock($1)', [DEVICE_ID_LOCK]);
}

/**
 * Devices whose id is an ancestor or a descendant of `id` (a path prefix followed by `/`), in
 * any status: a device's SPIFFE ID must never be a prefix of another's (docs/onboarding.md).
 */
export async function nestedDeviceIds(q: Queryable, id: string): Promise<string[]> {
  const rows = await q.query<{ id: string }>(`SELECT id FROM devices WHERE starts_with(id, $1 || '/') OR starts_with($1, id || '/') ORDER BY id LIMIT 5`, [id]);
  return rows.map((r) => r.id);
}
