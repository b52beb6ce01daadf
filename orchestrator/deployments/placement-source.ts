import type { Digest } from '../../common/digest.js';
import type { Placement, PlacementSource } from '../desired-state/placement.js';
import { grantSetSchema, type GrantSet } from '../../wire/grants.js';
import type { Tier } from '../../wire/tier.js';
import type { Queryable } from '../store/store.js';
import { refusedDigestsOfApps } from '../advisories/refused-digests.js';

interface Row {
  deployment_id: string;
  device_id: string;
  vendor: string;
  app_id: string;
  version: string;
  repository: string;
  digest: Digest;
  size_bytes: string | number;
  grants: Record<string, unknown>;
  tier: Tier;
  limits: Placement['limits'] | null;
  parameters: Record<string, unknown> | null;
  trust_policy: Record<string, unknown>;
}

const PLACEMENT_QUERY = `SELECT p.deployment_id, p.device_id, a.vendor, a.id AS app_id, p.version, v.repository, v.digest, v.size_bytes,
              d.grants, d.tier, d.limits, d.parameters, ven.trust_policy
       FROM placements p
       JOIN devices dev ON dev.id = p.device_id AND dev.status = 'active'
       JOIN deployments d ON d.id = p.deployment_id
       JOIN apps a ON a.id = d.app_id
       JOIN vendors ven ON ven.name = a.vendor
       JOIN app_versions v ON v.app_id = d.app_id AND v.version = p.version`;

/**
 * The effective grants of a stored deployment. Admission stores them effective; a deployment
 * admitted before grants were (stored as the operator wrote them) gets the same defaults here,
 * so every rendered document carries effective values. Grants that no longer parse are passed
 * as stored: the device refuses that one deployment and says why, rather than this device's
 * whole render failing.
 */
export function effectiveGrantsOf(stored: Record<string, unknown>): GrantSet {
  const parsed = grantSetSchema.safeParse(stored);
  return parsed.success ? parsed.data : (stored as GrantSet);
}

function placementOf(r: Row): Placement {
  const p: Placement = {
    deploymentId: r.deployment_id,
    deviceId: r.device_id,
    vendor: r.vendor,
    app: r.app_id,
    version: r.version,
    component: { repository: r.repository, digest: r.digest, sizeBytes: Number(r.size_bytes) },
    grants: effectiveGrantsOf(r.grants),
    tier: r.tier,
    trustPolicy: r.trust_policy,
  };
  if (r.limits) p.limits = r.limits;
  if (r.parameters) p.parameters = r.parameters;
  return p;
}

/** Each placement with the digests of its app that advisories stop, when there are any. */
async function withRefused(db: Queryable, placements: Placement[]): Promise<Placement[]> {
  const refused = await refusedDigestsOfApps(
    db,
    placements.map((p) => p.app),
  );
  for (const p of placements) {
    const list = refused.get(p.app);
    if (list) p.refusedDigests = list;
  }
  return placements;
}

/**
 * The scheduler's placements as the desired-state side reads them. Only an active device has
 * any: a revoked or unapproved device's state is empty even before the scheduler sweeps it.
 */
export const storePlacementSource: PlacementSource = {
  async placementsForDevice(db: Queryable, deviceId: string): Promise<Placement[]> {
    const rows = await db.query<Row>(`${PLACEMENT_QUERY} WHERE p.device_id = $1 ORDER BY p.deployment_id`, [deviceId]);
    return withRefused(db, rows.map(placementOf));
  },
  // One query for a whole rendering batch (the fleet-wide deployment's thousands of devices).
  async placementsForDevices(db: Queryable, deviceIds: readonly string[]): Promise<Map<string, Placement[]>> {
    const out = new Map<string, Placement[]>();
    if (deviceIds.length === 0) return out;
    const rows = await db.query<Row>(`${PLACEMENT_QUERY} WHERE p.device_id = ANY($1::text[]) ORDER BY p.device_id, p.deployment_id`, [deviceIds]);
    for (const p of await withRefused(db, rows.map(placementOf))) {
      let list = out.get(p.deviceId);
      if (!list) out.set(p.deviceId, (list = []));
      list.push(p);
    }
    return out;
  },
};
