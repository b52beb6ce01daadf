import type { Digest } from '../../common/digest.js';
import type { RefusedDigest } from '../../wire/advisory.js';
import type { AdvisoryRecord } from '../store/advisories.js';
import { listAdvisories } from '../store/advisories.js';
import type { Queryable } from '../store/store.js';
import { affects, purlsOf, versionsOfApp } from './matching.js';

/** The actions whose affected digests a device must refuse to run (docs/vulnerability-response.md). */
export const REFUSING_ACTIONS = ['stop', 'rollback'] as const;

/**
 * For each of these apps, the digests of its admitted versions that a `stop` or `rollback`
 * advisory affects, with those advisories' ids: what every deployment document of the app tells
 * its device never to start, its last-known-good fallback included. Apps without any are absent.
 */
export async function refusedDigestsOfApps(q: Queryable, appIds: readonly string[]): Promise<Map<string, RefusedDigest[]>> {
  const out = new Map<string, RefusedDigest[]>();
  if (appIds.length === 0) return out;
  const advisories = await listAdvisories(q, REFUSING_ACTIONS);
  if (advisories.length === 0) return out;
  for (const appId of new Set(appIds)) {
    const refused = refusedOf(await versionsOfApp(q, appId, purlsOf(advisories)), advisories);
    if (refused.length > 0) out.set(appId, refused);
  }
  return out;
}

function refusedOf(versions: Awaited<ReturnType<typeof versionsOfApp>>, advisories: readonly AdvisoryRecord[]): RefusedDigest[] {
  const byDigest = new Map<Digest, Set<string>>();
  for (const v of versions) {
    const ids = advisories.filter((a) => affects(a, v)).map((a) => a.id);
    if (ids.length === 0) continue;
    const set = byDigest.get(v.digest) ?? new Set<string>();
    for (const id of ids) set.add(id);
    byDigest.set(v.digest, set);
  }
  return [...byDigest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([digest, ids]) => ({ digest, advisories: [...ids].sort() }));
}

/** Devices with a placement of any of these apps: their documents carry the apps' refused digests. */
export async function devicesOfApps(q: Queryable, appIds: readonly string[]): Promise<string[]> {
  const rows = await q.query<{ device_id: string }>(
    `SELECT DISTINCT p.device_id FROM placements p JOIN deployments d ON d.id = p.deployment_id WHERE d.app_id = ANY($1::text[]) ORDER BY p.device_id`,
    [[...new Set(appIds)]],
  );
  return rows.map((r) => r.device_id);
}
