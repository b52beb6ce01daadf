import type { PlacementStatus } from '../store/deployment-status.js';
import type { DeploymentRecord } from '../store/deployments.js';
import type { RolloutWave } from '../../wire/rollout.js';

/**
 * The waves of a deployment's rollout (berth rollout watch draws one bar each): the waves moved
 * so far, counted from the wave recorded on each placement (rollout.ts advance), then the waves
 * to come, as the devices not yet on the target split by the batch size. Devices placed during
 * the rollout get the target at once and belong to no wave. No rollout, or one rolled back: none.
 */
export function rolloutWaves(d: Pick<DeploymentRecord, 'version' | 'rollout'>, rows: readonly PlacementStatus[]): RolloutWave[] {
  const r = d.rollout;
  const target = r.state === 'rolling' || r.state === 'paused' ? r.targetVersion : r.state === 'done' ? d.version : null;
  if (target === null) return [];
  const moved = new Map<number, PlacementStatus[]>();
  for (const row of rows) if (row.version === target && row.wave !== null) moved.set(row.wave, [...(moved.get(row.wave) ?? []), row]);
  const waves = [...moved.entries()].sort(([a], [b]) => a - b).map(([wave, devices]) => movedWave(wave, devices));
  const left = r.state === 'done' ? 0 : rows.filter((row) => row.version !== target).length;
  const batch = Math.max(1, r.batchSize);
  for (let i = 0; i * batch < left; i++) {
    waves.push({ wave: waves.length + 1, devices: Math.min(batch, left - i * batch), adopted: 0, failed: 0, phase: 'waiting' });
  }
  return waves;
}

function movedWave(wave: number, devices: readonly PlacementStatus[]): RolloutWave {
  const adopted = devices.filter((s) => s.state === 'installed').length;
  const failed = devices.filter((s) => s.state === 'failed').length;
  const phase = failed > 0 ? 'failed' : adopted === devices.length ? 'done' : 'installing';
  return { wave, devices: devices.length, adopted, failed, phase };
}
