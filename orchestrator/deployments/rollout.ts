import { parseGrants } from '../../host-apis/grants.js';
import { checkImports } from '../../host-apis/import-policy.js';
import { assertNotBlocked } from '../advisories/blocking.js';
import type { DesiredStateChanged } from '../desired-state/placement.js';
import { HttpProblem, validationProblem } from '../http/problem.js';
import * as catalog from '../store/catalog.js';
import * as deployments from '../store/deployments.js';
import { DEFAULT_WAVE_TIMEOUT_SECONDS, type DeploymentRecord } from '../store/deployments.js';
import { pauseForFailures, pauseForTimeout } from './rollout-pause.js';
import { statusOfPlacements } from '../store/deployment-status.js';
import * as placements from '../store/placements.js';
import type { Queryable } from '../store/store.js';
import { lockScheduler } from '../scheduling/scheduler.js';

export type RolloutStep = 'not-rolling' | 'paused' | 'waiting' | 'next-wave' | 'done';

/** The deployment, read under the scheduler's lock (a 404 when there is none). */
export async function locked(tx: Queryable, id: string): Promise<DeploymentRecord> {
  await lockScheduler(tx);
  const d = await deployments.getDeployment(tx, id, true);
  if (!d) throw new HttpProblem(404, 'deployment.unknown', 'No such deployment', { detail: `no deployment '${id}'` });
  return d;
}

/**
 * Starts a rolling update to `version`: devices move in waves of `batchSize`, each wave only once
 * every device of the previous one reports `installed` on the new version; a wave not installed
 * everywhere `waveTimeoutSeconds` after it started pauses the rollout (pauseOverdueWaves).
 */
export async function startRollingUpdate(
  tx: Queryable,
  id: string,
  version: string,
  batchSize: number | undefined,
  changed: DesiredStateChanged,
  waveTimeoutSeconds = DEFAULT_WAVE_TIMEOUT_SECONDS,
): Promise<RolloutStep> {
  const d = await locked(tx, id);
  if (d.rollout.state === 'rolling' || d.rollout.state === 'paused') {
    throw new HttpProblem(409, 'rollout.in_progress', 'A rollout is in progress', {
      detail: `deployment '${id}' is ${d.rollout.state} towards ${d.rollout.targetVersion}; roll back first`,
    });
  }
  if (version === d.version) throw validationProblem([{ field: 'version', message: `the deployment already runs ${version}` }], 'rollout.same_version');
  const v = await catalog.getVersion(tx, d.appId, version, 'key share');
  if (!v) throw validationProblem([{ field: 'version', message: `app '${d.appId}' has no version '${version}'` }], 'rollout.unknown_version');
  await assertNotBlocked(tx, d.appId, version, 'version');
  try {
    checkImports(d.appId, v.imports, parseGrants(d.grants));
  } catch (err) {
    throw validationProblem([{ field: 'version', message: (err as Error).message }], 'rollout.imports_not_granted');
  }
  await deployments.setRollout(tx, id, {
    state: 'rolling',
    targetVersion: version,
    previousVersion: d.version,
    ...(batchSize ? { batchSize } : {}),
    waveTimeoutSeconds,
  });
  return advance(tx, id, changed);
}

/** Moves a rolling deployment on by at most one wave; pauses it when its current wave has a failure. */
export async function advance(tx: Queryable, id: string, changed: DesiredStateChanged): Promise<RolloutStep> {
  // Every status report calls this; most are for deployments that are not rolling. Those need not
  // queue on the fleet-wide scheduler lock (it serialized all reports across replicas). A report
  // about a new version can only follow the commit that started the rollout, so it sees `rolling`.
  const peek = await deployments.getDeployment(tx, id);
  if (peek && peek.rollout.state !== 'rolling') return 'not-rolling';
  const d = await locked(tx, id);
  const target = d.rollout.targetVersion;
  if (d.rollout.state !== 'rolling' || target === null) return 'not-rolling';
  const statuses = await statusOfPlacements(tx, id);
  const wave = statuses.filter((s) => s.version === target);
  const failed = wave.filter((s) => s.state === 'failed');
  if (failed.length > 0) {
    await deployments.setRollout(tx, id, { state: 'paused', targetVersion: target, reason: pauseForFailures(target, failed) });
    return 'paused';
  }
  if (wave.some((s) => s.state !== 'installed')) return 'waiting';
  const rest = statuses.filter((s) => s.version !== target).map((s) => s.deviceId);
  if (rest.length === 0) {
    await deployments.setRollout(tx, id, { version: target, state: 'done', targetVersion: null });
    return 'done';
  }
  const next = rest.slice(0, d.rollout.batchSize);
  const waveNumber = 1 + Math.max(0, ...wave.map((s) => s.wave ?? 0));
  await placements.upsertPlacements(
    tx,
    next.map((deviceId) => ({ deploymentId: id, deviceId, version: target, wave: waveNumber })),
  );
  await changed(tx, next);
  await placements.stampManifestVersions(tx, id, next);
  await deployments.startWave(tx, id);
  return 'next-wave';
}

/**
 * Pauses every rolling update whose current wave outlived its timeout, naming the devices of the
 * wave not (yet) `installed` on the new version: a device that never reports would otherwise hold
 * the rollout for ever. Called by the scheduler's periodic reconcile (docs/scheduling.md).
 */
export async function pauseOverdueWaves(tx: Queryable): Promise<string[]> {
  const due = await deployments.overdueWaves(tx);
  const paused: string[] = [];
  for (const id of due) {
    const d = await locked(tx, id);
    const target = d.rollout.targetVersion;
    // Moved on (or paused) since the first look: the lock makes this answer the settled one.
    if (d.rollout.state !== 'rolling' || target === null || !(await deployments.overdueWaves(tx)).includes(id)) continue;
    const silent = (await statusOfPlacements(tx, id)).filter((s) => s.version === target && s.state !== 'installed');
    if (silent.length === 0) continue;
    await deployments.setRollout(tx, id, { state: 'paused', targetVersion: target, reason: pauseForTimeout(target, silent, d.rollout.waveTimeoutSeconds) });
    paused.push(id);
  }
  return paused;
}

/** Every device back to the version before the last rolling update, at once (not in waves). */
export async function rollback(tx: Queryable, id: string, changed: DesiredStateChanged): Promise<string> {
  const d = await locked(tx, id);
  const previous = d.rollout.previousVersion;
  if (previous === null || d.rollout.state === 'rolled-back' || d.rollout.state === 'none') {
    throw new HttpProblem(409, 'rollout.nothing_to_roll_back', 'There is no previous version to roll back to', {
      detail: `deployment '${id}' has had no rolling update since its last rollback`,
    });
  }
  await assertNotBlocked(tx, d.appId, previous, 'rollout.previousVersion');
  const moved = (await placements.placementsOfDeployment(tx, id)).filter((p) => p.version !== previous).map((p) => p.deviceId);
  await placements.upsertPlacements(
    tx,
    moved.map((deviceId) => ({ deploymentId: id, deviceId, version: previous })),
  );
  await deployments.setRollout(tx, id, { version: previous, state: 'rolled-back', targetVersion: null, previousVersion: null });
  if (moved.length > 0) await changed(tx, moved);
  await placements.stampManifestVersions(tx, id, moved);
  return previous;
}
