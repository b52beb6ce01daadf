import type { DesiredStateChanged } from '../desired-state/placement.js';
import { HttpProblem } from '../http/problem.js';
import * as deployments from '../store/deployments.js';
import type { DeploymentRecord } from '../store/deployments.js';
import type { Queryable } from '../store/store.js';
import { advance, locked, type RolloutStep } from './rollout.js';

async function lockedRollout(tx: Queryable, id: string, want: 'rolling' | 'paused', action: string): Promise<DeploymentRecord> {
  const d = await locked(tx, id);
  if (d.rollout.state !== want || d.rollout.targetVersion === null)
    throw new HttpProblem(409, `rollout.not_${want}`, `The rollout is not ${want}`, {
      detail: `deployment '${id}' is ${d.rollout.state}${d.rollout.targetVersion ? ` towards ${d.rollout.targetVersion}` : ''}; only a ${want} rollout can be ${action}`,
    });
  return d;
}

/**
 * An operator holds a rolling update where it is: devices already moved stay on the new version,
 * no further wave starts, and the wave clock stops, until it is resumed or rolled back.
 */
export async function pauseRollout(tx: Queryable, id: string, by: string): Promise<DeploymentRecord> {
  const d = await lockedRollout(tx, id, 'rolling', 'paused');
  const version = d.rollout.targetVersion!;
  await deployments.setRollout(tx, id, {
    state: 'paused',
    targetVersion: version,
    reason: { code: 'rollout.paused_by_operator', version, devices: [], at: new Date().toISOString(), message: `paused by ${by}` },
  });
  return (await deployments.getDeployment(tx, id))!;
}

/**
 * Goes on with a paused rolling update, however it was paused: the current wave gets a fresh
 * timeout, and a wave that still has failed devices pauses it again at once, naming them.
 */
export async function resumeRollout(tx: Queryable, id: string, changed: DesiredStateChanged): Promise<{ step: RolloutStep; deployment: DeploymentRecord }> {
  const d = await lockedRollout(tx, id, 'paused', 'resumed');
  await deployments.setRollout(tx, id, { state: 'rolling', targetVersion: d.rollout.targetVersion });
  await deployments.startWave(tx, id);
  const step = await advance(tx, id, changed);
  return { step, deployment: (await deployments.getDeployment(tx, id))! };
}
