import type { Queryable } from './store.js';
import { jsonParam } from './sanitise.js';

/** Tokens are stored only as the SHA-256 of their secret; the secret is shown once at creation. */

export interface EnrollmentTokenRecord {
  id: string;
  deviceId: string | null;
  labels: Record<string, string>;
  expiresAt: Date;
  usedAt: Date | null;
}

export async function insertEnrollmentToken(
  q: Queryable,
  t: { id: string; secretSha256: string; deviceId: string | null; labels: Record<string, string>; expiresAt: Date; createdBy: string },
): Promise<void> {
  await q.query(`INSERT INTO enrollment_tokens (id, secret_sha256, device_id, labels, expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)`, [
    t.id,
    t.secretSha256,
    t.deviceId,
    jsonParam(t.labels),
    t.expiresAt,
    t.createdBy,
  ]);
}

export type TokenClaim = { ok: true; token: EnrollmentTokenRecord } | { ok: false; reason: 'unknown' | 'used' | 'expired'; token?: EnrollmentTokenRecord };

/**
 * Marks the token used by `requestId` in one statement, so two devices racing with the same
 * token cannot both win. When it was not claimable, says why (for the audit log and the problem).
 */
export async function claimEnrollmentToken(q: Queryable, secretSha256: string, requestId: string): Promise<TokenClaim> {
  type Row = { id: string; device_id: string | null; labels: Record<string, string>; expires_at: Date; used_at: Date | null };
  const toRecord = (r: Row): EnrollmentTokenRecord => ({ id: r.id, deviceId: r.device_id, labels: r.labels, expiresAt: r.expires_at, usedAt: r.used_at });
  const claimed = await q.query<Row>(
    `UPDATE enrollment_tokens SET used_at = now(), used_by_request = $2
     WHERE secret_sha256 = $1 AND used_at IS NULL AND expires_at > now()
     RETURNING id, device_id, labels, expires_at, used_at`,
    [secretSha256, requestId],
  );
  if (claimed[0]) return { ok: true, token: toRecord(claimed[0]) };
  const existing = await q.query<Row>('SELECT id, device_id, labels, expires_at, used_at FROM enrollment_tokens WHERE secret_sha256 = $1', [secretSha256]);
  const row = existing[0];
  if (!row) return { ok: false, reason: 'unknown' };
  return { ok: false, reason: row.used_at ? 'used' : 'expired', token: toRecord(row) };
}

export interface OperatorTokenRecord {
  id: string;
  name: string;
  role: string;
}

export async function insertOperatorToken(q: Queryable, t: { id: string; secretSha256: string; name: string; role: string }): Promise<void> {
  await q.query('INSERT INTO operator_tokens (id, secret_sha256, name, role) VALUES ($1, $2, $3, $4)', [t.id, t.secretSha256, t.name, t.role]);
}

export async function findOperatorToken(q: Queryable, secretSha256: string): Promise<OperatorTokenRecord | undefined> {
  const rows = await q.query<OperatorTokenRecord>('SELECT id, name, role FROM operator_tokens WHERE secret_sha256 = $1 AND revoked_at IS NULL', [secretSha256]);
  return rows[0];
}

export async function revokeOperatorToken(q: Queryable, id: string): Promise<boolean> {
  const rows = await q.query('UPDATE operator_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id]);
  return rows.length === 1;
}

export async function countOperatorTokens(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM operator_tokens WHERE revoked_at IS NULL');
  return row?.n ?? 0;
}
