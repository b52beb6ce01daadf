import type { RevokedEntry } from '../../trust/revocation/crl.js';
import type { Queryable } from '../store/store.js';
import { jsonParam } from '../store/sanitise.js';

/** The published revocation list as stored: one row, read by every replica. */
export interface StoredRevocationList {
  number: number;
  issuers: string[];
  thisUpdate: Date | null;
  nextUpdate: Date | null;
  document: string | null;
  etag: string | null;
}

interface Row {
  crl_number: string | number;
  issuers: string[];
  this_update: Date | null;
  next_update: Date | null;
  document: string | null;
  etag: string | null;
}

const toList = (r: Row): StoredRevocationList => ({
  number: Number(r.crl_number),
  issuers: r.issuers,
  thisUpdate: r.this_update,
  nextUpdate: r.next_update,
  document: r.document,
  etag: r.etag,
});

/** Copies the device's revoked certificates into the table the CRLs are built from. */
export async function recordRevokedCertificates(tx: Queryable, deviceId: string): Promise<number> {
  const rows = await tx.query(
    `INSERT INTO revoked_certificates (serial, issuer_fingerprint, device_id, fingerprint, not_after)
     SELECT serial, issuer_fingerprint, device_id, fingerprint, not_after FROM device_certificates
      WHERE device_id = $1 AND state = 'revoked'
     ON CONFLICT (serial) DO NOTHING RETURNING serial`,
    [deviceId],
  );
  return rows.length;
}

/** Certificates of one issuer to list: revoked, and not expired before `since`. */
export async function revokedBy(tx: Queryable, issuerFingerprint: string, since: Date): Promise<RevokedEntry[]> {
  const rows = await tx.query<{ serial: string; revoked_at: Date }>(
    `SELECT serial, revoked_at FROM revoked_certificates WHERE issuer_fingerprint = $1 AND not_after >= $2 ORDER BY revoked_at, serial`,
    [issuerFingerprint, since],
  );
  return rows.map((r) => ({ serial: r.serial, revokedAt: new Date(r.revoked_at) }));
}

/** Takes the list's row lock for the rest of the transaction: one re-issue at a time, fleet-wide. */
export async function lockRevocationList(tx: Queryable): Promise<StoredRevocationList> {
  const [row] = await tx.query<Row>(`SELECT * FROM revocation_list WHERE singleton FOR UPDATE`);
  return toList(row!);
}

export async function readRevocationList(q: Queryable): Promise<StoredRevocationList> {
  const [row] = await q.query<Row>(`SELECT * FROM revocation_list WHERE singleton`);
  return toList(row!);
}

export async function saveRevocationList(tx: Queryable, list: StoredRevocationList): Promise<void> {
  await tx.query(
    `UPDATE revocation_list SET crl_number = $1, issuers = $2::jsonb, this_update = $3, next_update = $4, document = $5, etag = $6 WHERE singleton`,
    [list.number, jsonParam(list.issuers), list.thisUpdate, list.nextUpdate, list.document, list.etag],
  );
}
