import type { DesiredStateChanged } from '../desired-state/placement.js';
import * as deployments from '../store/deployments.js';
import type { DeploymentRecord } from '../store/deployments.js';
import * as placements from '../store/placements.js';
import type { Queryable } from '../store/store.js';
import { loadCandidates } from './candidates.js';
import { add, demandOf, ZERO } from './capacity.js';
import { planDeployment, refusalOf, type Candidate } from './plan.js';

/** Every scheduling transaction takes this lock, so replicas never plan from each other's half-state. */
const SCHEDULER_LOCK = 0x62657275;

export async function lockScheduler(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEDULER_LOCK]);
}

export interface ScheduleResult {
  added: string[];
  removed: string[];
  unplaced: number;
}

/** The version a device newly given this deployment gets: the newest one being rolled out. */
const versionForNewDevice = (d: DeploymentRecord) =>
  d.rollout.state === 'rolling' || d.rollout.state === 'paused' ? (d.rollout.targetVersion ?? d.version) : d.version;

/**
 * Recomputes one deployment's placements over the whole fleet and writes the difference in one
 * batch; `changed` hears every device whose placements changed, in the same transaction.
 */
export async function rescheduleDeployment(tx: Queryable, deployment: DeploymentRecord, changed: DesiredStateChanged): Promise<ScheduleResult> {
  await lockScheduler(tx);
  const candidates = await loadCandidates(tx, deployment.id);
  const current = new Set((await placements.placementsOfDeployment(tx, deployment.id)).map((p) => p.deviceId));
  const plan = planDeployment(deployment.placement, candidates, current);
  const target = new Set(plan.deviceIds);
  const added = plan.deviceIds.filter((id) => !current.has(id));
  const removed = [...current].filter((id) => !target.has(id)).sort();
  const version = versionForNewDevice(deployment);
  await placements.upsertPlacements(
    tx,
    added.map((deviceId) => ({ deploymentId: deployment.id, deviceId, version })),
  );
  await placements.deletePlacements(tx, deployment.id, removed);
  if (added.length + removed.length > 0) await changed(tx, [...added, ...removed].sort());
  await placements.stampManifestVersions(tx, deployment.id, added);
  return { added, removed, unplaced: plan.unplaced };
}

/**
 * After one device's capabilities, labels or health changed: every-device deployments are
 * decided for that device alone; a spread deployment is recomputed only when it loses this
 * device or is short of instances and this device could take one. A handful of queries,
 * whatever the number of deployments, unless a spread deployment has to be recomputed.
 */
export async function rescheduleDevice(tx: Queryable, deviceId: string, changed: DesiredStateChanged): Promise<string[]> {
  await lockScheduler(tx);
  const touched = new Set<string>();
  const record: DesiredStateChanged = async (t, ids) => {
    ids.forEach((id) => touched.add(id));
    await changed(t, ids);
  };
  const [device] = await loadCandidates(tx, undefined, deviceId);
  if (!device) return [];
  const all = await deployments.listDeployments(tx);
  const demand = new Map(all.map((d) => [d.id, demandOf(d.placement.capacityRequirements)]));
  const on = new Set((await placements.placementsOfDevice(tx, deviceId)).map((p) => p.deploymentId));
  const sum = (ids: Iterable<string>) => [...ids].reduce((acc, id) => add(acc, demand.get(id) ?? ZERO), ZERO);
  const older: string[] = [];
  for (const deployment of all) {
    const isOn = on.has(deployment.id);
    // Older deployments claim first: a placement stays if it fits next to the older ones on the
    // device; a new one must fit next to everything there now (nothing is evicted for it).
    const used = isOn ? sum(older.filter((id) => on.has(id))) : sum(on);
    const view: Candidate = { ...device, used, load: on.size - (isOn ? 1 : 0) };
    const fits = refusalOf(deployment.placement, view) === undefined;
    if (isOn !== fits) {
      if (deployment.placement.mode.kind === 'every') {
        if (fits) await placements.upsertPlacements(tx, [{ deploymentId: deployment.id, deviceId, version: versionForNewDevice(deployment) }]);
        else await placements.deletePlacements(tx, deployment.id, [deviceId]);
        await record(tx, [deviceId]);
        if (fits) await placements.stampManifestVersions(tx, deployment.id, [deviceId]);
      } else if (isOn || (await placements.placementsOfDeployment(tx, deployment.id)).length < deployment.placement.mode.replicas) {
        await rescheduleDeployment(tx, deployment, record);
      }
      const nowOn = (await placements.placementsOfDevice(tx, deviceId)).some((p) => p.deploymentId === deployment.id);
      if (nowOn) on.add(deployment.id);
      else on.delete(deployment.id);
    }
    older.push(deployment.id);
  }
  return [...touched].sort();
}

/** A full sweep: every deployment in creation order (older ones claim capacity first). */
export async function rescheduleAll(tx: Queryable, changed: DesiredStateChanged): Promise<void> {
  await lockScheduler(tx);
  for (const deployment of await deployments.listDeployments(tx)) await rescheduleDeployment(tx, deployment, changed);
}
