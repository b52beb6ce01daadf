import type { Queryable } from './store.js';

export type RequestStatus = 'pending' | 'approved' | 'denied';

export interface OnboardingRequestRecord {
  id: string;
  deviceId: string;
  method: string;
  csrPem: string;
  publicKeySha256: string;
  status: RequestStatus;
  certificateFingerprint: string | null;
  createdAt: Date;
}

interface Row {
  id: string;
  device_id: string;
  method: string;
  csr_pem: string;
  public_key_sha256: string;
  status: RequestStatus;
  certificate_fingerprint: string | null;
  created_at: Date;
}

const toRecord = (r: Row): OnboardingRequestRecord => ({
  id: r.id,
  deviceId: r.device_id,
  method: r.method,
  csrPem: r.csr_pem,
  publicKeySha256: r.public_key_sha256,
  status: r.status,
  certificateFingerprint: r.certificate_fingerprint,
  createdAt: r.created_at,
});

export async function insertRequest(q: Queryable, r: Omit<OnboardingRequestRecord, 'status' | 'certificateFingerprint' | 'createdAt'>): Promise<void> {
  await q.query(`INSERT INTO onboarding_requests (id, device_id, method, csr_pem, public_key_sha256, status) VALUES ($1, $2, $3, $4, $5, 'pending')`, [
    r.id,
    r.deviceId,
    r.method,
    r.csrPem,
    r.publicKeySha256,
  ]);
}

export async function getRequest(q: Queryable, id: string, forUpdate = false): Promise<OnboardingRequestRecord | undefined> {
  const rows = await q.query<Row>(`SELECT * FROM onboarding_requests WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] && toRecord(rows[0]);
}

export async function pendingRequestFor(q: Queryable, deviceId: string): Promise<OnboardingRequestRecord | undefined> {
  const rows = await q.query<Row>(`SELECT * FROM onboarding_requests WHERE device_id = $1 AND status = 'pending' ORDER BY created_at DESC LIMIT 1`, [deviceId]);
  return rows[0] && toRecord(rows[0]);
}

export async function listPendingRequests(q: Queryable): Promise<OnboardingRequestRecord[]> {
  return (await q.query<Row>(`SELECT * FROM onboarding_requests WHERE status = 'pending' ORDER BY created_at`)).map(toRecord);
}

export async function decideRequest(
  q: Queryable,
  id: string,
  d: { status: 'approved' | 'denied'; by: string; certificateFingerprint?: string },
): Promise<boolean> {
  const rows = await q.query(
    `UPDATE onboarding_requests SET status = $2, decided_at = now(), decided_by = $3, certificate_fingerprint = $4
     WHERE id = $1 AND status = 'pending' RETURNING id`,
    [id, d.status, d.by, d.certificateFingerprint ?? null],
  );
  return rows.length === 1;
}
