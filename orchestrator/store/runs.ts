import type { Queryable } from './store.js';

/** One stretch of time a device ran one version of a deployment (migration 14 keeps them). */
export interface AppRun {
  deviceId: string;
  deploymentId: string;
  appId: string;
  /** The app's vendor, while the app exists. */
  vendor: string | null;
  version: string;
  digest: string | null;
  startedAt: Date;
  /** Null while it runs. */
  endedAt: Date | null;
  /** `replaced` (by `endedByVersion`), `failed`, `removed` or `unplaced`. */
  endState: string | null;
  endCode: string | null;
  endedByVersion: string | null;
}

interface Row {
  device_id: string;
  deployment_id: string;
  app_id: string;
  vendor: string | null;
  version: string;
  digest: string | null;
  started_at: Date;
  ended_at: Date | null;
  end_state: string | null;
  end_code: string | null;
  ended_by_version: string | null;
}

const toRun = (r: Row): AppRun => ({
  deviceId: r.device_id,
  deploymentId: r.deployment_id,
  appId: r.app_id,
  vendor: r.vendor,
  version: r.version,
  digest: r.digest,
  startedAt: new Date(r.started_at),
  endedAt: r.ended_at && new Date(r.ended_at),
  endState: r.end_state,
  endCode: r.end_code,
  endedByVersion: r.ended_by_version,
});

/**
 * The runs an advisory could be about (of these apps, or of these digests), with every other run
 * of the same device and deployment (what ran before and after), in time order.
 */
export async function runsAround(q: Queryable, appIds: readonly string[], digests: readonly string[]): Promise<AppRun[]> {
  if (appIds.length === 0 && digests.length === 0) return [];
  const rows = await q.query<Row>(
    `SELECT r.*, a.vendor FROM device_app_runs r LEFT JOIN apps a ON a.id = r.app_id
     WHERE (r.device_id, r.deployment_id) IN
       (SELECT device_id, deployment_id FROM device_app_runs WHERE app_id = ANY($1::text[]) OR digest = ANY($2::text[]))
     ORDER BY r.device_id, r.deployment_id, r.started_at, r.id`,
    [appIds, digests],
  );
  return rows.map(toRun);
}

/** Forgets runs that ended more than `days` ago; how many. */
export async function pruneRuns(q: Queryable, days: number): Promise<number> {
  const rows = await q.query('DELETE FROM device_app_runs WHERE ended_at < now() - make_interval(days => $1) RETURNING id', [days]);
  return rows.length;
}
