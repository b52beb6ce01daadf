import type { Queryable } from './store.js';

/**
 * Whether the control plane has heard from a device lately (docs/scheduling.md "Health"). A device
 * without a row has never been tracked and counts as healthy; `unknown` means it went quiet.
 */
export type DeviceHealth = 'healthy' | 'unknown';

/**
 * Records polls seen by a replica since its last flush: one statement for all of them. A device
 * that was `unknown` becomes `healthy` again, with `changed_at` set so the reconciler reschedules
 * it. `seenAt` never moves backwards (replicas flush out of order).
 */
export async function recordSeen(q: Queryable, seen: ReadonlyMap<string, number>): Promise<void> {
  if (seen.size === 0) return;
  const ids = [...seen.keys()].sort();
  await q.query(
    `INSERT INTO device_health (device_id, last_seen_at, health, changed_at)
     SELECT u.id, to_timestamp(u.at / 1000.0), 'healthy', now()
     FROM unnest($1::text[], $2::float8[]) AS u(id, at) JOIN devices d ON d.id = u.id
     ON CONFLICT (device_id) DO UPDATE SET
       last_seen_at = greatest(device_health.last_seen_at, EXCLUDED.last_seen_at),
       changed_at = CASE WHEN device_health.health = 'healthy' THEN device_health.changed_at ELSE now() END,
       health = 'healthy'`,
    [ids, ids.map((id) => seen.get(id)!)],
  );
}

/**
 * Devices silent for longer than `staleAfterMs` become `unknown`: tracked devices by their last
 * poll, never-polled ones by their last capabilities report. Returns the devices that changed.
 */
export async function markStale(tx: Queryable, staleAfterMs: number): Promise<string[]> {
  const quiet = await tx.query<{ device_id: string }>(
    `UPDATE device_health SET health = 'unknown', changed_at = now()
     WHERE health = 'healthy' AND last_seen_at < now() - make_interval(secs => $1 / 1000.0)
     RETURNING device_id`,
    [staleAfterMs],
  );
  const never = await tx.query<{ device_id: string }>(
    `INSERT INTO device_health (device_id, last_seen_at, health, changed_at)
     SELECT c.device_id, c.updated_at, 'unknown', now() FROM device_capabilities c
     WHERE c.updated_at < now() - make_interval(secs => $1 / 1000.0)
       AND NOT EXISTS (SELECT 1 FROM device_health h WHERE h.device_id = c.device_id)
     ON CONFLICT (device_id) DO NOTHING
     RETURNING device_id`,
    [staleAfterMs],
  );
  return [...quiet, ...never].map((r) => r.device_id).sort();
}

export async function healthOf(q: Queryable, deviceId: string): Promise<{ health: DeviceHealth; lastSeenAt: Date } | undefined> {
  const rows = await q.query<{ health: DeviceHealth; last_seen_at: Date }>('SELECT health, last_seen_at FROM device_health WHERE device_id = $1', [deviceId]);
  return rows[0] && { health: rows[0].health, lastSeenAt: new Date(rows[0].last_seen_at) };
}

/**
 * Devices whose scheduling inputs changed after `since` (status or labels, capabilities, health),
 * and the store's clock now, which the caller keeps as the next `since`.
 */
export async function changedSince(tx: Queryable, since: Date | null): Promise<{ now: Date; deviceIds: string[] | 'all' }> {
  const [clock] = await tx.query<{ now: Date }>('SELECT now() AS now');
  if (since === null) return { now: new Date(clock!.now), deviceIds: 'all' };
  const rows = await tx.query<{ id: string }>(
    `SELECT id FROM devices WHERE updated_at > $1
     UNION SELECT device_id FROM device_capabilities WHERE updated_at > $1
     UNION SELECT device_id FROM device_health WHERE changed_at > $1
     ORDER BY 1`,
    [since],
  );
  return { now: new Date(clock!.now), deviceIds: rows.map((r) => r.id) };
}

/** The last reconcile's start, by the store's clock (null before the first). */
export async function lastReconcile(q: Queryable): Promise<Date | null> {
  const rows = await q.query<{ started_at: Date }>('SELECT started_at FROM scheduler_reconciles WHERE id = 1');
  return rows[0] ? new Date(rows[0].started_at) : null;
}

export async function setLastReconcile(tx: Queryable, startedAt: Date): Promise<void> {
  await tx.query(`INSERT INTO scheduler_reconciles (id, started_at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET started_at = EXCLUDED.started_at`, [
    startedAt,
  ]);
}
