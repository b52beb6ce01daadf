import type { PlacementSpec } from '../scheduling/plan.js';
import type { Queryable } from './store.js';
import { jsonParam } from './sanitise.js';
import type { Limits } from '../../wire/limits.js';
import type { Tier } from '../../wire/tier.js';

export type RolloutState = 'none' | 'rolling' | 'paused' | 'done' | 'rolled-back';

/** Why a rollout paused (docs/scheduling.md): which devices, on which version. */
export interface RolloutPause {
  code: 'rollout.device_rolled_back' | 'rollout.device_failed' | 'rollout.wave_timeout' | 'rollout.paused_by_operator';
  message: string;
  version: string;
  devices: string[];
  at: string;
}

/** How long a wave may take before its rollout pauses, unless the rollout says otherwise. */
export const DEFAULT_WAVE_TIMEOUT_SECONDS = 900;

export interface DeploymentRecord {
  id: string;
  appId: string;
  /** What new and settled devices run. During a rollout, the version being moved away from. */
  version: string;
  grants: Record<string, unknown>;
  tier: Tier;
  limits: Limits | null;
  parameters: Record<string, unknown> | null;
  placement: PlacementSpec;
  rollout: {
    state: RolloutState;
    targetVersion: string | null;
    previousVersion: string | null;
    batchSize: number;
    /** Set while paused. */
    reason: RolloutPause | null;
    waveTimeoutSeconds: number;
    /** When the current wave's devices were moved (while rolling). */
    waveStartedAt: Date | null;
  };
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: string;
  app_id: string;
  version: string;
  grants: Record<string, unknown>;
  tier: Tier;
  limits: DeploymentRecord['limits'];
  parameters: DeploymentRecord['parameters'];
  placement: PlacementSpec;
  rollout_state: RolloutState;
  target_version: string | null;
  previous_version: string | null;
  batch_size: number;
  rollout_reason: RolloutPause | null;
  wave_timeout_seconds: number;
  wave_started_at: Date | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

const toRecord = (r: Row): DeploymentRecord => ({
  id: r.id,
  appId: r.app_id,
  version: r.version,
  grants: r.grants,
  tier: r.tier,
  limits: r.limits,
  parameters: r.parameters,
  placement: r.placement,
  rollout: {
    state: r.rollout_state,
    targetVersion: r.target_version,
    previousVersion: r.previous_version,
    batchSize: r.batch_size,
    reason: r.rollout_reason,
    waveTimeoutSeconds: r.wave_timeout_seconds,
    waveStartedAt: r.wave_started_at,
  },
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type NewDeployment = Pick<DeploymentRecord, 'id' | 'appId' | 'version' | 'grants' | 'tier' | 'limits' | 'parameters' | 'placement' | 'createdBy'> & {
  batchSize: number;
};

export async function insertDeployment(q: Queryable, d: NewDeployment): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO deployments (id, app_id, version, grants, tier, limits, parameters, placement, batch_size, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [d.id, d.appId, d.version, jsonParam(d.grants), d.tier, jsonParam(d.limits), jsonParam(d.parameters), jsonParam(d.placement), d.batchSize, d.createdBy],
  );
  return rows.length === 1;
}

export async function getDeployment(q: Queryable, id: string, forUpdate = false): Promise<DeploymentRecord | undefined> {
  const rows = await q.query<Row>(`SELECT * FROM deployments WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] && toRecord(rows[0]);
}

/** In creation order: older deployments claim capacity first. */
export async function listDeployments(q: Queryable): Promise<DeploymentRecord[]> {
  return (await q.query<Row>('SELECT * FROM deployments ORDER BY seq')).map(toRecord);
}

/** One app's deployments, in creation order. */
export async function deploymentsOfApp(q: Queryable, appId: string): Promise<DeploymentRecord[]> {
  return (await q.query<Row>('SELECT * FROM deployments WHERE app_id = $1 ORDER BY seq', [appId])).map(toRecord);
}

export async function deleteDeployment(q: Queryable, id: string): Promise<boolean> {
  return (await q.query('DELETE FROM deployments WHERE id = $1 RETURNING id', [id])).length === 1;
}

export async function setRollout(
  q: Queryable,
  id: string,
  r: {
    version?: string;
    state: RolloutState;
    targetVersion: string | null;
    previousVersion?: string | null;
    batchSize?: number;
    grants?: Record<string, unknown>;
    reason?: RolloutPause;
    waveTimeoutSeconds?: number;
  },
): Promise<void> {
  // The reason is the pause's own: any other change of state clears it, and the wave clock with it.
  await q.query(
    `UPDATE deployments SET version = COALESCE($2, version), rollout_state = $3, target_version = $4,
       previous_version = CASE WHEN $5::boolean THEN $6 ELSE previous_version END,
       batch_size = COALESCE($7, batch_size), grants = COALESCE($8, grants),
       rollout_reason = $9::jsonb, wave_timeout_seconds = COALESCE($10, wave_timeout_seconds),
       wave_started_at = CASE WHEN $3 = 'rolling' THEN wave_started_at END, updated_at = now()
     WHERE id = $1`,
    [
      id,
      r.version ?? null,
      r.state,
      r.targetVersion,
      r.previousVersion !== undefined,
      r.previousVersion ?? null,
      r.batchSize ?? null,
      jsonParam(r.grants),
      r.reason ? jsonParam(r.reason) : null,
      r.waveTimeoutSeconds ?? null,
    ],
  );
}

/** A wave's devices were just moved: its timeout counts from now (the store's clock, shared by replicas). */
export async function startWave(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE deployments SET wave_started_at = now() WHERE id = $1', [id]);
}

/** Rolling deployments whose current wave started longer ago than its timeout. */
export async function overdueWaves(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `SELECT id FROM deployments
      WHERE rollout_state = 'rolling' AND wave_started_at IS NOT NULL AND wave_started_at + wave_timeout_seconds * interval '1 second' < now()
      ORDER BY seq`,
  );
  return rows.map((r) => r.id);
}
