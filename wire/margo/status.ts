import { z } from 'zod';
import { deploymentIdSchema, deviceIdSchema } from '../ids.js';

export const deploymentStates = ['pending', 'installing', 'installed', 'failed', 'removing', 'removed'] as const;
export type DeploymentState = (typeof deploymentStates)[number];

/** A usage report: nested objects of numbers (memory, cpu, hostCalls, bytes, restarts), bounded in size (the body reader's 64-level limit bounds the nesting). */
const usageValue: z.ZodType<unknown> = z.lazy(() => z.union([z.number().finite(), z.null(), z.record(z.string().max(128), usageValue).refine((o) => Object.keys(o).length <= 256, 'at most 256 members')]));
const usageSchema = z.record(z.string().max(64), usageValue).refine((o) => Object.keys(o).length <= 32 && JSON.stringify(o).length <= 65_536, 'a usage report is at most 32 members and 64 KiB');

const errorSchema = z.object({ code: z.string().max(256).optional(), source: z.string().max(256).optional(), message: z.string().max(4096).optional() });

/** Margo's DeploymentStatusManifest, as a device reports it. */
export const deploymentStatusSchema = z.object({
  deploymentId: deploymentIdSchema,
  deviceId: deviceIdSchema,
  adoptedManifestVersion: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  status: z.object({ state: z.enum(deploymentStates), error: errorSchema.optional() }),
  components: z.array(z.object({ name: z.string().min(1).max(256), state: z.enum(deploymentStates), error: errorSchema.optional() })).max(64).optional(),
  /** Berth: the app version the report is about and its resource usage (docs/accounting.md). */
  'x-berth-extensions': z.object({ version: z.string().max(128).optional(), usage: usageSchema.optional() }).optional(),
});
export type DeploymentStatus = z.infer<typeof deploymentStatusSchema>;
