import type { Queryable } from './store.js';
import { JsonParam } from './sanitise.js';

export type AuthorityState = 'active' | 'retiring' | 'retired';

export interface AuthorityRecord {
  fingerprint: string;
  kind: 'root' | 'intermediate';
  certificatePem: string;
  issuerFingerprint: string | null;
  state: AuthorityState;
  notAfter: Date;
  createdAt: Date;
}

interface Row {
  fingerprint: string;
  kind: 'root' | 'intermediate';
  certificate_pem: string;
  issuer_fingerprint: string | null;
  state: AuthorityState;
  not_after: Date;
  created_at: Date;
}

const toRecord = (r: Row): AuthorityRecord => ({
  fingerprint: r.fingerprint,
  kind: r.kind,
  certificatePem: r.certificate_pem,
  issuerFingerprint: r.issuer_fingerprint,
  state: r.state,
  notAfter: r.not_after,
  createdAt: r.created_at,
});

export async function insertAuthority(q: Queryable, a: Omit<AuthorityRecord, 'createdAt'>): Promise<void> {
  await q.query(`INSERT INTO authorities (fingerprint, kind, certificate_pem, issuer_fingerprint, state, not_after) VALUES ($1, $2, $3, $4, $5, $6)`, [
    a.fingerprint,
    a.kind,
    a.certificatePem,
    a.issuerFingerprint,
    a.state,
    a.notAfter,
  ]);
}

/** Every authority not retired, oldest first: the set devices and the server trust. */
export async function listTrustedAuthorities(q: Queryable): Promise<AuthorityRecord[]> {
  const rows = await q.query<Row>(`SELECT * FROM authorities WHERE state <> 'retired' ORDER BY created_at, fingerprint`);
  return rows.map(toRecord);
}

export async function setAuthorityState(q: Queryable, fingerprint: string, state: AuthorityState): Promise<boolean> {
  return (await q.query('UPDATE authorities SET state = $2 WHERE fingerprint = $1 RETURNING fingerprint', [fingerprint, state])).length === 1;
}

export async function getSetting<T>(q: Queryable, name: string): Promise<T | undefined> {
  const rows = await q.query<{ value: T }>('SELECT value FROM settings WHERE name = $1', [name]);
  return rows[0]?.value;
}

export async function putSetting(q: Queryable, name: string, value: unknown): Promise<void> {
  await q.query('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value', [name, new JsonParam(value)]);
}

/** Raises the trust bundle's sequence by one and returns the new value (in the caller's transaction). */
export async function bumpBundleSequence(q: Queryable): Promise<number> {
  const rows = await q.query<{ value: number }>(
    `INSERT INTO settings (name, value) VALUES ('bundle_sequence', '1'::jsonb)
     ON CONFLICT (name) DO UPDATE SET value = to_jsonb((settings.value #>> '{}')::int + 1) RETURNING value`,
  );
  return Number(rows[0]!.value);
}

export async function trustedManufacturers(q: Queryable): Promise<{ fingerprint: string; name: string; certificatePem: string }[]> {
  return q.query('SELECT fingerprint, name, certificate_pem AS "certificatePem" FROM manufacturer_authorities ORDER BY name');
}

export async function insertManufacturer(q: Queryable, m: { fingerprint: string; name: string; certificatePem: string }): Promise<boolean> {
  const rows = await q.query(
    'INSERT INTO manufacturer_authorities (fingerprint, name, certificate_pem) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING name',
    [m.fingerprint, m.name, m.certificatePem],
  );
  return rows.length === 1;
}
