import type { Justification, VexStatement, VexStatus } from '../../wire/vex.js';
import type { Queryable } from './store.js';

/** A statement as stored: who stated it and when. */
export interface StoredVexStatement extends VexStatement {
  advisoryId: string;
  statedBy: string;
  updatedAt: Date;
}

interface Row {
  advisory_id: string;
  app_id: string;
  version: string;
  status: VexStatus;
  justification: Justification | null;
  detail: string | null;
  stated_by: string;
  updated_at: Date;
}

const toStatement = (r: Row): StoredVexStatement => ({
  advisoryId: r.advisory_id,
  app: r.app_id,
  version: r.version,
  status: r.status,
  ...(r.justification ? { justification: r.justification } : {}),
  ...(r.detail ? { detail: r.detail } : {}),
  statedBy: r.stated_by,
  updatedAt: r.updated_at,
});

/** A later statement about the same advisory and version replaces the earlier one. */
export async function upsertVexStatement(q: Queryable, advisoryId: string, s: VexStatement, by: string): Promise<void> {
  await q.query(
    `INSERT INTO vex_statements (advisory_id, app_id, version, status, justification, detail, stated_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (advisory_id, app_id, version) DO UPDATE SET status = EXCLUDED.status, justification = EXCLUDED.justification,
       detail = EXCLUDED.detail, stated_by = EXCLUDED.stated_by, updated_at = now()`,
    [advisoryId, s.app, s.version, s.status, s.justification ?? null, s.detail ?? null, by],
  );
}

export async function vexStatementsOf(q: Queryable, advisoryId: string): Promise<StoredVexStatement[]> {
  return (await q.query<Row>('SELECT * FROM vex_statements WHERE advisory_id = $1 ORDER BY app_id, version', [advisoryId])).map(toStatement);
}
