import type { Placement, PlacementSource } from '../../orchestrator/desired-state/placement.js';
import { renderBundle, renderDeployment, renderManifest, type Rendered, type RenderedDeployment } from '../../orchestrator/desired-state/render.js';
import type { Queryable } from '../../orchestrator/store/store.js';
import { placement } from '../device-api/support.js';
import { effectiveGrants } from '../../wire/grants.js';

/** Device ids the YAML library writes plain and ids it must quote (numbers, keywords, odd starts). */
export const DEVICE_IDS = [
  'dev-000001',
  'A',
  'line/7/press',
  'a.b~c_d',
  'Zz9',
  '123',
  '0x1F',
  '1e5',
  'true',
  'NULL',
  'yes',
  'y',
  '-dash',
  '.inf',
  '~',
  '_x',
  'x'.repeat(200),
];

/** A few placements per device, with the fields that change the document: limits, parameters, long ids. */
export function placementsFor(deviceId: string, i: number): Placement[] {
  const list = [placement(deviceId, 'meter-everywhere')];
  if (i % 2 === 0)
    list.push(placement(deviceId, 'k'.repeat(95), { limits: { memoryBytes: 1 << 20 }, parameters: { note: 'berth-device-id-sentinel-5f0c2a9e' } }));
  if (i % 3 === 0) list.push(placement(deviceId, 'l'.repeat(120), { tier: 'process', parameters: { deviceId } }));
  if (i % 5 === 0) list.push(placement(deviceId, 'a-first', { grants: effectiveGrants({ log: {}, keyvalue: { quotaBytes: 1024 } }) }));
  return list;
}

/** The per-device path as it was before batching: what every batch must reproduce byte for byte. */
export async function referenceState(
  placements: readonly Placement[],
  manifestVersion: number,
): Promise<{ deployments: RenderedDeployment[]; bundle: Rendered | null; manifest: Rendered }> {
  const deployments = placements.map(renderDeployment).sort((a, b) => (a.deploymentId < b.deploymentId ? -1 : a.deploymentId > b.deploymentId ? 1 : 0));
  const bundle = deployments.length > 0 ? await renderBundle(deployments) : null;
  return { deployments, bundle, manifest: renderManifest(manifestVersion, deployments, bundle) };
}

/** An in-memory placement source; `bulk` adds the one-query batch read the store source has. */
export function mapSource(byDevice: Map<string, Placement[]>, bulk: boolean): PlacementSource & { reads: number } {
  const source: PlacementSource & { reads: number } = {
    reads: 0,
    placementsForDevice: async (_db: Queryable, deviceId: string) => {
      source.reads++;
      return byDevice.get(deviceId) ?? [];
    },
  };
  if (bulk) {
    source.placementsForDevices = async (_db: Queryable, ids: readonly string[]) => {
      source.reads++;
      return new Map(ids.map((id) => [id, byDevice.get(id) ?? []]));
    };
  }
  return source;
}

export async function addDevices(q: Queryable, ids: readonly string[]): Promise<void> {
  await q.query(
    `INSERT INTO devices (id, status, labels, onboarding_method) SELECT id, 'active', '{}'::jsonb, 'test' FROM unnest($1::text[]) AS u(id) ON CONFLICT DO NOTHING`,
    [ids],
  );
}
