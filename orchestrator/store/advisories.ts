import type { Affected, AdvisoryAction, Severity } from '../../wire/advisory.js';
import type { Queryable } from './store.js';
import { jsonParam } from './sanitise.js';

export interface AdvisoryRecord {
  id: string;
  summary: string;
  severity: Severity;
  cvss: string | null;
  affected: Affected[];
  action: AdvisoryAction;
  references: string[];
  /** The vendor that filed it, whose apps alone it can affect; null when an admin filed it. */
  vendor: string | null;
  createdBy: string;
  createdAt: Date;
  /** `app@version` of every version a VEX statement says is not affected: exempt from this advisory. */
  notAffected: string[];
}

interface Row {
  id: string;
  summary: string;
  severity: Severity;
  cvss: string | null;
  affected: Affected[];
  action: AdvisoryAction;
  refs: string[];
  vendor: string | null;
  created_by: string;
  created_at: Date;
  not_affected: string[];
}

const toAdvisory = (r: Row): AdvisoryRecord => ({
  id: r.id,
  summary: r.summary,
  severity: r.severity,
  cvss: r.cvss,
  affected: r.affected,
  action: r.action,
  references: r.refs,
  vendor: r.vendor,
  createdBy: r.created_by,
  createdAt: r.created_at,
  notAffected: r.not_affected,
});

const SELECT = `SELECT a.*, COALESCE((SELECT jsonb_agg(s.app_id || '@' || s.version ORDER BY s.app_id, s.version) FROM vex_statements s
    WHERE s.advisory_id = a.id AND s.status = 'not_affected'), '[]'::jsonb) AS not_affected FROM advisories a`;

/** False when an advisory with that id exists already (advisories are not overwritten). */
export async function insertAdvisory(q: Queryable, a: Omit<AdvisoryRecord, 'createdAt' | 'notAffected'>): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO advisories (id, summary, severity, cvss, affected, action, refs, vendor, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT DO NOTHING RETURNING id`,
    [a.id, a.summary, a.severity, a.cvss, jsonParam(a.affected), a.action, jsonParam(a.references), a.vendor, a.createdBy],
  );
  return rows.length === 1;
}

export async function getAdvisory(q: Queryable, id: string): Promise<AdvisoryRecord | undefined> {
  const rows = await q.query<Row>(`${SELECT} WHERE a.id = $1`, [id]);
  return rows[0] && toAdvisory(rows[0]);
}

/** Every advisory, newest first; `actions` narrows to those with one of these actions. */
export async function listAdvisories(q: Queryable, actions?: readonly AdvisoryAction[]): Promise<AdvisoryRecord[]> {
  const rows = actions
    ? await q.query<Row>(`${SELECT} WHERE a.action = ANY($1::text[]) ORDER BY a.created_at DESC, a.id`, [actions])
    : await q.query<Row>(`${SELECT} ORDER BY a.created_at DESC, a.id`);
  return rows.map(toAdvisory);
}
