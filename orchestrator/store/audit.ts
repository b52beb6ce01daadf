import type { AuditEvent, AuditPage, AuditQuery } from '../../wire/audit.js';
import { jsonParam } from './sanitise.js';
import type { Queryable } from './store.js';

/** One security event as the store keeps it (migration 16). */
export interface AuditRecord {
  event: string;
  actor: string | null;
  deviceId: string | null;
  fields: Record<string, unknown>;
}

interface Row {
  id: string;
  at: Date;
  event: string;
  actor: string | null;
  device_id: string | null;
  fields: Record<string, unknown>;
}

const toEvent = (r: Row): AuditEvent => ({
  id: Number(r.id),
  at: r.at.toISOString(),
  event: r.event,
  actor: r.actor,
  deviceId: r.device_id,
  fields: r.fields,
});

export async function insertAuditEvents(q: Queryable, records: readonly AuditRecord[]): Promise<void> {
  if (records.length === 0) return;
  // One jsonb parameter, so the store's text boundary (sanitise.ts) cleans every field.
  await q.query(
    `INSERT INTO audit_events (event, actor, device_id, fields)
     SELECT e->>'event', e->>'actor', e->>'deviceId', e->'fields' FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS r(e, n) ORDER BY n`,
    [jsonParam(records)],
  );
}

/** A page of the log (wire/audit.ts says which way it reads). */
export async function listAuditEvents(q: Queryable, query: AuditQuery): Promise<AuditPage> {
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (v: unknown): string => `$${params.push(v)}`;
  const following = query.after !== undefined;
  if (following) where.push(`id > ${bind(query.after)}`);
  if (query.before !== undefined) where.push(`id < ${bind(query.before)}`);
  if (query.event?.endsWith('.')) where.push(`starts_with(event, ${bind(query.event)})`);
  else if (query.event) where.push(`event = ${bind(query.event)}`);
  if (query.deviceId) where.push(`device_id = ${bind(query.deviceId)}`);
  const rows = await q.query<Row>(
    `SELECT id, at, event, actor, device_id, fields FROM audit_events
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY id ${following ? 'ASC' : 'DESC'} LIMIT ${bind(query.limit + 1)}`,
    params,
  );
  const events = rows.slice(0, query.limit).map(toEvent);
  const last = events.at(-1);
  // Following, the cursor always moves on (an empty page keeps it where it was).
  if (following) return { events, next: last?.id ?? query.after! };
  return rows.length > query.limit && last ? { events, next: last.id } : { events };
}

export async function pruneAuditEvents(q: Queryable, days: number): Promise<number> {
  const rows = await q.query('DELETE FROM audit_events WHERE at < now() - make_interval(days => $1) RETURNING id', [days]);
  return rows.length;
}
