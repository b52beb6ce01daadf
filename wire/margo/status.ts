import { z } from 'zod';
import { deploymentIdSchema, deviceIdSchema } from './common.js';

export const deploymentStates = ['pending', 'installing', 'installed', 'failed', 'removing', 'removed'] as const;
export type DeploymentState = (typeof deploymentStates)[number];

const errorSchema = z.object({ code: z.string().max(256).optional(), source: z.string().max(256).optional(), message: z.string().max(4096).optional() });

/** Margo's DeploymentStatusManifest, as a device reports it. */
export const deploymentStatusSchema = z.object({
  deploymentId: deploymentIdSchema,
  deviceId: deviceIdSchema,
  adoptedManifestVersion: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  status: z.object({ state: z.enum(deploymentStates), error: errorSchema.optional() }),
  components: z.array(z.object({ name: z.string().min(1).max(256), state: z.enum(deploymentStates), error: errorSchema.optional() })).max(64).optional(),
});
export type DeploymentStatus = z.infer<typeof deploymentStatusSchema>;
