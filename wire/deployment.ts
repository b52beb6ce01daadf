import { z } from 'zod';
import { rolloutWaveSchema } from './rollout.js';
import { tierSchema } from './tier.js';

/**
 * Deployments as the operator API answers them (GET/POST /api/v1/admin/deployments…,
 * orchestrator/routes/operator-deployment-api.ts): the store's records as JSON, dates as ISO 8601.
 * Declared here, not beside the handlers, because the console reads the same answers
 * (console/src/types.ts takes their types, never the schemas, so its bundle holds no zod).
 */

/** What a device last reported of a deployment on it (store/deployment-status.ts). */
export const DEVICE_DEPLOYMENT_STATES = ['pending', 'installing', 'installed', 'failed', 'removing', 'removed'] as const;
export type DeviceDeploymentState = (typeof DEVICE_DEPLOYMENT_STATES)[number];

export const ROLLOUT_STATES = ['none', 'rolling', 'paused', 'done', 'rolled-back'] as const;

const storedJson = z.record(z.string(), z.unknown());

export const rolloutShown = z.object({
  state: z.enum(ROLLOUT_STATES),
  targetVersion: z.string().nullable(),
  previousVersion: z.string().nullable(),
  batchSize: z.number().int(),
  /** Set while paused: why. */
  reason: z
    .object({
      code: z.enum(['rollout.device_rolled_back', 'rollout.device_failed', 'rollout.wave_timeout', 'rollout.paused_by_operator']),
      message: z.string(),
      version: z.string(),
      devices: z.array(z.string()),
      at: z.string(),
    })
    .nullable(),
  waveTimeoutSeconds: z.number().int(),
  waveStartedAt: z.string().nullable(),
});
export type RolloutShown = z.output<typeof rolloutShown>;

/** A deployment: store/deployments.ts DeploymentRecord as JSON. */
export const deploymentShown = z.object({
  id: z.string(),
  appId: z.string(),
  version: z.string(),
  grants: storedJson,
  tier: tierSchema,
  limits: storedJson.nullable(),
  parameters: storedJson.nullable(),
  placement: storedJson,
  rollout: rolloutShown,
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DeploymentShown = z.output<typeof deploymentShown>;

export const deploymentCreated = deploymentShown.extend({ placed: z.array(z.string()), unplaced: z.number().int() });
export type DeploymentCreated = z.output<typeof deploymentCreated>;
export const deploymentsListed = z.object({ deployments: z.array(deploymentShown) });
export type DeploymentsListed = z.output<typeof deploymentsListed>;

/** GET /deployments/{id}: the deployment and the version placed on each of its devices. */
export const placementShown = z.object({ deploymentId: z.string(), deviceId: z.string(), version: z.string() });
export type PlacementShown = z.output<typeof placementShown>;
export const deploymentWithPlacements = deploymentShown.extend({ placements: z.array(placementShown) });
export type DeploymentWithPlacements = z.output<typeof deploymentWithPlacements>;

export const deploymentRolledBack = z.object({ deploymentId: z.string(), version: z.string() });
export type DeploymentRolledBack = z.output<typeof deploymentRolledBack>;

/** DELETE /deployments/{id}: the devices it was removed from. */
export const deploymentRemoved = z.object({ deploymentId: z.string(), removedFrom: z.array(z.string()) });
export type DeploymentRemoved = z.output<typeof deploymentRemoved>;

/** A rollout started, paused or resumed: the deployment, the scheduler's step where it took one, and the rollout. */
export const rolloutAnswer = rolloutShown.extend({
  deploymentId: z.string(),
  step: z.enum(['not-rolling', 'paused', 'waiting', 'next-wave', 'done']).optional(),
});
export type RolloutAnswer = z.output<typeof rolloutAnswer>;

/** GET /deployments/{id}/status: deployments/status.ts DeploymentStatus as JSON. */
export const deploymentStatusShown = z.object({
  deploymentId: z.string(),
  version: z.string(),
  rollout: rolloutShown,
  devices: z.number().int(),
  counts: z.object(Object.fromEntries(DEVICE_DEPLOYMENT_STATES.map((s) => [s, z.number().int()])) as Record<DeviceDeploymentState, z.ZodNumber>),
  versions: z.record(z.string(), z.number().int()),
  installed: z.record(z.string(), z.number().int()).describe('Per version, the devices placed on it that report it installed: a rollout’s progress'),
  waves: z.array(rolloutWaveSchema).describe('The rollout’s waves in order: those moved, with exact counts, then those to come'),
  errors: z.array(z.object({ deviceId: z.string(), version: z.string(), error: z.unknown().describe('The error the device reported (Margo status.error)') })),
  usage: z.record(z.string(), z.unknown().describe('The last resource usage the device reported')),
  otherVersions: z.array(z.object({ deviceId: z.string(), placedVersion: z.string(), version: z.string(), state: z.enum(DEVICE_DEPLOYMENT_STATES) })),
  reports: z
    .record(z.string(), z.object({ version: z.string(), state: z.enum(DEVICE_DEPLOYMENT_STATES) }))
    .describe('Each placed device’s last report, whichever version it names; a device that has not reported yet is absent'),
});
export type DeploymentStatusShown = z.output<typeof deploymentStatusShown>;
