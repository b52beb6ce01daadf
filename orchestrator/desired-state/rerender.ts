import { BUNDLE_MEDIA_TYPE, DEPLOYMENT_MEDIA_TYPE } from '../../wire/margo/common.js';
import * as stored from '../store/desired-state.js';
import type { Queryable } from '../store/store.js';
import type { Placement, PlacementSource } from './placement.js';
import { renderManifest, type RenderedDeployment } from './render.js';
import { batchRenderer, renderBundleFast } from './render-batch.js';

/** Devices rendered per set of statements: bounds the size of one statement's parameters. */
export const RENDER_BATCH = 500;

const byDeploymentId = (a: RenderedDeployment, b: RenderedDeployment) => (a.deploymentId < b.deploymentId ? -1 : a.deploymentId > b.deploymentId ? 1 : 0);

async function placementsOf(tx: Queryable, source: PlacementSource, deviceIds: readonly string[]): Promise<Map<string, Placement[]>> {
  if (source.placementsForDevices) return source.placementsForDevices(tx, deviceIds);
  const out = new Map<string, Placement[]>();
  for (const id of deviceIds) out.set(id, await source.placementsForDevice(tx, id));
  return out;
}

/**
 * Renders these devices' documents, bundles and manifests from their placements and stores them
 * in `tx`, allocating each device's next manifestVersion in the same transaction. In memory per
 * device, in bulk statements per batch: versions (1), placements (1), documents (2), manifests (1).
 * `deviceIds` must be distinct and sorted (rows are locked in that order).
 */
export async function renderDevices(
  tx: Queryable,
  source: PlacementSource,
  deviceIds: readonly string[],
  keep?: (digest: string, mediaType: string, bytes: Buffer) => void,
): Promise<stored.StoredManifest[]> {
  const out: stored.StoredManifest[] = [];
  const render = batchRenderer();
  for (let start = 0; start < deviceIds.length; start += RENDER_BATCH) {
    const ids = deviceIds.slice(start, start + RENDER_BATCH);
    // Versions first: allocating them locks the devices' rows until commit, and only then are
    // placements read, so they include whatever a transaction that held a row before us (a
    // scheduler placing a deployment on another replica) committed. Read before the lock, a
    // render could save the next version without a placement committed meanwhile.
    const versions = await stored.nextManifestVersions(tx, ids);
    const placements = await placementsOf(tx, source, ids);
    const docs: Parameters<typeof stored.putDocuments>[1][number][] = [];
    const rendered: { deviceId: string; deployments: RenderedDeployment[]; bundle: Awaited<ReturnType<typeof renderBundleFast>> | null }[] = [];
    for (const deviceId of ids) {
      // Sorted here too, so the manifest's bytes never depend on a source's row order.
      const deployments = (placements.get(deviceId) ?? []).map(render).sort(byDeploymentId);
      for (const d of deployments) docs.push({ deviceId, digest: d.digest, mediaType: DEPLOYMENT_MEDIA_TYPE, bytes: d.bytes, deploymentId: d.deploymentId });
      const bundle = deployments.length > 0 ? await renderBundleFast(deployments) : null;
      if (bundle) docs.push({ deviceId, digest: bundle.digest, mediaType: BUNDLE_MEDIA_TYPE, bytes: bundle.bytes });
      rendered.push({ deviceId, deployments, bundle });
    }
    await stored.putDocuments(tx, docs);
    if (keep) for (const d of docs) keep(d.digest, d.mediaType, d.bytes);
    const manifests = rendered.map(({ deviceId, deployments, bundle }) => {
      const manifestVersion = versions.get(deviceId);
      if (manifestVersion === undefined) throw new Error(`no manifestVersion allocated for ${deviceId}`);
      const m = renderManifest(manifestVersion, deployments, bundle);
      return { deviceId, manifestVersion, digest: m.digest, bytes: m.bytes };
    });
    await stored.saveManifests(tx, manifests);
    out.push(...manifests);
  }
  return out;
}
