import type { Queryable, Store } from '../store/store.js';

/** Set once every device's stored documents carry effective grants (docs/deployments.md "Grants"). */
export const EFFECTIVE_GRANTS_SETTING = 'desired_state.effective_grants';

/**
 * Documents rendered before grants were signed effective lack their defaults, and an agent that
 * reads grants as effective refuses them (an app restored from disk would not start). The first
 * control plane of this version to start re-renders, once, every device that has placements, in
 * one transaction with the marker, so exactly one replica does it and a crash leaves it to the next.
 */
export async function renderEffectiveGrantsOnce(store: Store, rerender: (tx: Queryable, deviceIds: readonly string[]) => Promise<void>): Promise<number> {
  return store.transaction(async (tx) => {
    const first = await tx.query(`INSERT INTO settings (name, value) VALUES ($1, 'true'::jsonb) ON CONFLICT (name) DO NOTHING RETURNING name`, [
      EFFECTIVE_GRANTS_SETTING,
    ]);
    if (first.length === 0) return 0;
    const devices = (await tx.query<{ device_id: string }>('SELECT DISTINCT device_id FROM placements ORDER BY device_id')).map((r) => r.device_id);
    if (devices.length > 0) await rerender(tx, devices);
    return devices.length;
  });
}
