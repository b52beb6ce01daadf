import type { Queryable } from '../store/store.js';
import { histogramFigures, histogramSql, type HistogramFigures } from './store-histogram.js';

/** Bucket bounds, seconds since a device's last poll: a poll is every few seconds to a minute; a day is long gone. */
export const LAST_SEEN_BOUNDS = [5, 15, 30, 60, 120, 300, 900, 3600, 21_600, 86_400, 604_800] as const;
/** Bucket bounds, seconds a placed version has waited for its device's first report on it. */
export const ADOPTION_LAG_BOUNDS = [1, 5, 15, 30, 60, 300, 900, 3600, 21_600, 86_400] as const;
/** Bucket bounds, seconds until a device's certificate expires (`le="0"`: expired already). */
export const CERTIFICATE_EXPIRY_BOUNDS = [0, 86_400, 3 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400, 90 * 86_400, 365 * 86_400] as const;

/** A count per value of one label, as `GROUP BY` returns it. */
export type Counts = Record<string, number>;

/**
 * The fleet as the store holds it, for one scrape: every figure is an aggregate computed by the
 * store (counts, histogram buckets), never a row per device, so a scrape costs the same few
 * queries with ten devices or a hundred thousand, and every replica reports the same fleet.
 */
export interface FleetFigures {
  /** Devices by status: pending, active, denied, revoked. */
  devices: Counts;
  /** Active devices by health: healthy, unknown (went quiet), untracked (never polled). */
  activeHealth: Counts;
  lastSeen: HistogramFigures;
  /** Deployments by rollout state: none, rolling, paused, done, rolled-back. */
  deployments: Counts;
  /** Paused rollouts by the pause's reason code. */
  pausedRollouts: Counts;
  /** Placements by their device's state on the placed version (pending until it reports on it). */
  placements: Counts;
  adoptionLag: HistogramFigures;
  certificateExpiry: HistogramFigures;
  /** Onboarding requests by status: pending, approved, denied. */
  onboardingRequests: Counts;
  /** The earliest expiry (Unix seconds) of the fleet CA's certificates, by `kind/state`. */
  authorities: { kind: string; state: string; notAfter: number }[];
  /** Versions in the catalog: what admission let in. */
  appVersions: number;
}

async function counts(q: Queryable, sql: string): Promise<Counts> {
  const rows = await q.query<{ k: string; n: number }>(sql);
  return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
}

async function histogram(q: Queryable, inner: string, bounds: readonly number[]): Promise<HistogramFigures> {
  const rows = await q.query(histogramSql(inner, bounds.length), [bounds]);
  return histogramFigures(rows[0], bounds.length);
}

/** Reads `FleetFigures`: a dozen aggregate queries, one after another (they share one connection at most). */
export async function readFleetFigures(q: Queryable): Promise<FleetFigures> {
  const placedNotReported = `FROM placements p LEFT JOIN deployment_device_status s ON s.deployment_id = p.deployment_id AND s.device_id = p.device_id`;
  return {
    devices: await counts(q, 'SELECT status AS k, count(*)::int AS n FROM devices GROUP BY status'),
    activeHealth: await counts(
      q,
      `SELECT coalesce(h.health, 'untracked') AS k, count(*)::int AS n
       FROM devices d LEFT JOIN device_health h ON h.device_id = d.id WHERE d.status = 'active' GROUP BY 1`,
    ),
    lastSeen: await histogram(
      q,
      `SELECT greatest(extract(epoch FROM now() - h.last_seen_at), 0)::float8 AS v
       FROM device_health h JOIN devices d ON d.id = h.device_id WHERE d.status = 'active'`,
      LAST_SEEN_BOUNDS,
    ),
    deployments: await counts(q, 'SELECT rollout_state AS k, count(*)::int AS n FROM deployments GROUP BY rollout_state'),
    pausedRollouts: await counts(
      q,
      `SELECT coalesce(rollout_reason->>'code', 'unknown') AS k, count(*)::int AS n FROM deployments WHERE rollout_state = 'paused' GROUP BY 1`,
    ),
    placements: await counts(
      q,
      `SELECT CASE WHEN s.version = p.version THEN s.state ELSE 'pending' END AS k, count(*)::int AS n ${placedNotReported} GROUP BY 1`,
    ),
    // A placement whose device has not reported on the placed version yet: how long it has waited.
    adoptionLag: await histogram(
      q,
      `SELECT greatest(extract(epoch FROM now() - p.updated_at), 0)::float8 AS v ${placedNotReported} WHERE s.version IS DISTINCT FROM p.version`,
      ADOPTION_LAG_BOUNDS,
    ),
    // The newest certificate of each active device (two are active while one is being renewed).
    certificateExpiry: await histogram(
      q,
      `SELECT extract(epoch FROM max(c.not_after) - now())::float8 AS v
       FROM device_certificates c JOIN devices d ON d.id = c.device_id
       WHERE c.state = 'active' AND d.status = 'active' GROUP BY c.device_id`,
      CERTIFICATE_EXPIRY_BOUNDS,
    ),
    onboardingRequests: await counts(q, 'SELECT status AS k, count(*)::int AS n FROM onboarding_requests GROUP BY status'),
    authorities: (
      await q.query<{ kind: string; state: string; t: number }>(
        'SELECT kind, state, extract(epoch FROM min(not_after))::float8 AS t FROM authorities GROUP BY kind, state ORDER BY kind, state',
      )
    ).map((r) => ({ kind: r.kind, state: r.state, notAfter: Number(r.t) })),
    appVersions: Number((await q.query<{ n: number }>('SELECT count(*)::int AS n FROM app_versions'))[0]?.n ?? 0),
  };
}
