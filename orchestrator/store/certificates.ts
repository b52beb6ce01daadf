import type { DeviceStatus } from './devices.js';
import type { Queryable } from './store.js';

export type CertificateState = 'active' | 'superseded' | 'revoked';

export interface DeviceCertificateRecord {
  fingerprint: string;
  deviceId: string;
  serial: string;
  publicKeySha256: string;
  issuerFingerprint: string;
  certificatePem: string;
  state: CertificateState;
  notBefore: Date;
  notAfter: Date;
}

interface Row {
  fingerprint: string;
  device_id: string;
  serial: string;
  public_key_sha256: string;
  issuer_fingerprint: string;
  certificate_pem: string;
  state: CertificateState;
  not_before: Date;
  not_after: Date;
}

const toRecord = (r: Row): DeviceCertificateRecord => ({
  fingerprint: r.fingerprint,
  deviceId: r.device_id,
  serial: r.serial,
  publicKeySha256: r.public_key_sha256,
  issuerFingerprint: r.issuer_fingerprint,
  certificatePem: r.certificate_pem,
  state: r.state,
  notBefore: r.not_before,
  notAfter: r.not_after,
});

export async function insertCertificate(q: Queryable, c: Omit<DeviceCertificateRecord, 'state'>): Promise<void> {
  await q.query(
    `INSERT INTO device_certificates
       (fingerprint, device_id, serial, public_key_sha256, issuer_fingerprint, certificate_pem, state, not_before, not_after)
     VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8)`,
    [c.fingerprint, c.deviceId, c.serial, c.publicKeySha256, c.issuerFingerprint, c.certificatePem, c.notBefore, c.notAfter],
  );
}

/** What the accepted-client policy needs for one presented certificate, in one query. */
export interface PresentedCertificate {
  certificate: DeviceCertificateRecord;
  deviceStatus: DeviceStatus;
  /** Issued after this one for the same device and still active: this one is being replaced. */
  newerActive: number;
  /** Issued before this one and still active: to be superseded once this one is used. */
  olderActive: number;
}

export async function findPresented(q: Queryable, fingerprint: string): Promise<PresentedCertificate | undefined> {
  const rows = await q.query<Row & { device_status: DeviceStatus; newer_active: number; older_active: number }>(
    `SELECT c.*, d.status AS device_status,
       (SELECT count(*)::int FROM device_certificates n
         WHERE n.device_id = c.device_id AND n.state = 'active' AND n.issued_at > c.issued_at) AS newer_active,
       (SELECT count(*)::int FROM device_certificates o
         WHERE o.device_id = c.device_id AND o.state = 'active' AND o.issued_at < c.issued_at) AS older_active
     FROM device_certificates c JOIN devices d ON d.id = c.device_id WHERE c.fingerprint = $1`,
    [fingerprint],
  );
  const r = rows[0];
  return r && { certificate: toRecord(r), deviceStatus: r.device_status, newerActive: r.newer_active, olderActive: r.older_active };
}

/** The device's newest active certificate. */
export async function currentCertificate(q: Queryable, deviceId: string): Promise<DeviceCertificateRecord | undefined> {
  const rows = await q.query<Row>(
    `SELECT * FROM device_certificates WHERE device_id = $1 AND state = 'active' ORDER BY issued_at DESC, not_before DESC LIMIT 1`,
    [deviceId],
  );
  return rows[0] && toRecord(rows[0]);
}

/** Retires every other active certificate of the device once it has used `fingerprint`. */
export async function supersedeOthers(q: Queryable, deviceId: string, fingerprint: string): Promise<number> {
  const rows = await q.query(
    `UPDATE device_certificates SET state = 'superseded'
     WHERE device_id = $1 AND fingerprint <> $2 AND state = 'active' RETURNING fingerprint`,
    [deviceId, fingerprint],
  );
  return rows.length;
}

export async function revokeDeviceCertificates(q: Queryable, deviceId: string): Promise<number> {
  const rows = await q.query(`UPDATE device_certificates SET state = 'revoked' WHERE device_id = $1 AND state <> 'revoked' RETURNING fingerprint`, [deviceId]);
  return rows.length;
}
