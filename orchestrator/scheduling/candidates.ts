import type { PlacementSpec } from './plan.js';
import { add, demandOf, ZERO } from './capacity.js';
import type { Candidate } from './plan.js';
import type { Queryable } from '../store/store.js';

/** Labels from the device's capabilities report, overlaid with the operator's labels (which win). */
function labelsOf(deviceLabels: Record<string, unknown>, manifest: unknown): Record<string, unknown> {
  const reported = (manifest as { labels?: unknown } | null)?.labels;
  const base = reported !== null && typeof reported === 'object' && !Array.isArray(reported) ? (reported as Record<string, unknown>) : {};
  return { ...base, ...deviceLabels };
}

interface DeviceRow {
  id: string;
  status: Candidate['status'];
  health: 'healthy' | 'unknown' | null;
  labels: Record<string, unknown>;
  manifest: unknown;
}

/**
 * Devices as the scheduler sees them (one device, or all), with the capacity and the number of
 * placements that deployments other than `exclude` hold on each (and, apart, what the deployments
 * older than `exclude` use: those claim first). Two queries, whatever the fleet size.
 */
export async function loadCandidates(q: Queryable, exclude: string | undefined, deviceId?: string): Promise<Candidate[]> {
  const devices = await q.query<DeviceRow>(
    `SELECT d.id, d.status, d.labels, c.manifest, h.health FROM devices d LEFT JOIN device_capabilities c ON c.device_id = d.id
     LEFT JOIN device_health h ON h.device_id = d.id
     ${deviceId === undefined ? '' : 'WHERE d.id = $1'} ORDER BY d.id`,
    deviceId === undefined ? [] : [deviceId],
  );
  const usage = await q.query<{ device_id: string; placement: PlacementSpec; older: boolean }>(
    `SELECT p.device_id, d.placement, d.seq < COALESCE((SELECT seq FROM deployments WHERE id = $1), 9223372036854775807) AS older
     FROM placements p JOIN deployments d ON d.id = p.deployment_id
     WHERE p.deployment_id IS DISTINCT FROM $1 ${deviceId === undefined ? '' : 'AND p.device_id = $2'}`,
    deviceId === undefined ? [exclude ?? null] : [exclude ?? null, deviceId],
  );
  const byId = new Map<string, Candidate>();
  const out = devices.map((d) => {
    const c: Candidate = { id: d.id, status: d.status, labels: labelsOf(d.labels, d.manifest), used: ZERO, load: 0 };
    if (d.health === 'unknown') c.health = 'unknown';
    if (d.manifest !== null && d.manifest !== undefined) c.capabilities = d.manifest;
    byId.set(d.id, c);
    return c;
  });
  for (const u of usage) {
    const c = byId.get(u.device_id);
    if (!c) continue;
    const demand = demandOf(u.placement.capacityRequirements);
    c.used = add(c.used, demand);
    if (u.older) c.usedByOlder = add(c.usedByOlder ?? ZERO, demand);
    c.load += 1;
  }
  return out;
}
