import { parseGrants } from '../../host-apis/grants.js';
import { checkImports } from '../../host-apis/import-policy.js';
import type { DesiredStateChanged } from '../desired-state/placement.js';
import { lockScheduler } from '../scheduling/scheduler.js';
import type { AdvisoryRecord } from '../store/advisories.js';
import { listAdvisories } from '../store/advisories.js';
import * as catalog from '../store/catalog.js';
import * as deployments from '../store/deployments.js';
import type { DeploymentRecord } from '../store/deployments.js';
import * as placements from '../store/placements.js';
import type { Queryable } from '../store/store.js';
import { BLOCKING_ACTIONS } from './blocking.js';
import { affects, purlsOf, versionsOfApp, type VersionRef } from './matching.js';

/** A deployment an advisory's `rollback` moved: from the versions its devices had, to one. */
export interface AdvisoryMove {
  deploymentId: string;
  appId: string;
  from: string[];
  to: string;
  devices: string[];
}

/** A deployment whose devices stop its app: they run an affected version, with none to move to. */
export interface StoppedDeployment {
  deploymentId: string;
  appId: string;
  versions: string[];
  devices: string[];
}

/** What a rollback advisory did; deployments with no version to move to stay, and their devices stop the app. */
export interface RollbackOutcome {
  moved: AdvisoryMove[];
}

/**
 * The advisory's `rollback`, inside the transaction that stored it: every deployment that runs,
 * rolls to or has placed an affected version moves, all its devices at once, to the newest
 * version of its app that no blocking advisory affects and whose imports its grants cover.
 */
export async function rollBackAffected(
  tx: Queryable,
  advisory: AdvisoryRecord,
  affected: readonly VersionRef[],
  changed: DesiredStateChanged,
): Promise<RollbackOutcome> {
  await lockScheduler(tx);
  const blockers = await listAdvisories(tx, BLOCKING_ACTIONS);
  const out: RollbackOutcome = { moved: [] };
  for (const appId of [...new Set(affected.map((v) => v.appId))]) {
    const bad = new Set(affected.filter((v) => v.appId === appId).map((v) => v.version));
    const clean = (await versionsOfApp(tx, appId, purlsOf(blockers))).filter((v) => !blockers.some((a) => affects(a, v)));
    for (const d of await deployments.deploymentsOfApp(tx, appId)) {
      const placed = await placements.placementsOfDeployment(tx, d.id);
      const uses = new Set([d.version, ...(d.rollout.targetVersion ? [d.rollout.targetVersion] : []), ...placed.map((p) => p.version)]);
      if (![...uses].some((v) => bad.has(v))) continue;
      const to = await firstGranted(tx, d, clean);
      if (!to) continue;
      const devices = placed.filter((p) => p.version !== to).map((p) => p.deviceId);
      await placements.upsertPlacements(
        tx,
        devices.map((deviceId) => ({ deploymentId: d.id, deviceId, version: to })),
      );
      await deployments.setRollout(tx, d.id, { version: to, state: 'rolled-back', targetVersion: null, previousVersion: null });
      if (devices.length > 0) await changed(tx, devices);
      await placements.stampManifestVersions(tx, d.id, devices);
      out.moved.push({ deploymentId: d.id, appId, from: [...uses].filter((v) => v !== to).sort(), to, devices });
    }
  }
  return out;
}

/** The first of `versions` (newest first) whose imports the deployment's grants cover. */
async function firstGranted(tx: Queryable, d: DeploymentRecord, versions: readonly VersionRef[]): Promise<string | undefined> {
  for (const v of versions) {
    const record = await catalog.getVersion(tx, d.appId, v.version);
    if (!record) continue;
    try {
      checkImports(d.appId, record.imports, parseGrants(d.grants));
      return v.version;
    } catch {
      // Not granted: an older version may be.
    }
  }
  return undefined;
}

/** Deployments of these apps with placements on an affected version (`app@version` keys), and those devices. */
export async function stoppedDeployments(tx: Queryable, appIds: readonly string[], affected: ReadonlySet<string>): Promise<StoppedDeployment[]> {
  const out: StoppedDeployment[] = [];
  for (const appId of appIds) {
    for (const d of await deployments.deploymentsOfApp(tx, appId)) {
      const hit = (await placements.placementsOfDeployment(tx, d.id)).filter((p) => affected.has(`${appId}@${p.version}`));
      const current = affected.has(`${appId}@${d.version}`);
      if (hit.length === 0 && !current) continue;
      const versions = [...new Set([...(current ? [d.version] : []), ...hit.map((p) => p.version)])].sort();
      out.push({ deploymentId: d.id, appId, versions, devices: hit.map((p) => p.deviceId) });
    }
  }
  return out;
}
