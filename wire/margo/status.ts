import { z } from 'zod';
import { engineNameSchema } from '../engine.js';
import { deploymentIdSchema, deviceIdSchema } from '../ids.js';

export const deploymentStates = ['pending', 'installing', 'installed', 'failed', 'removing', 'removed'] as const;
export type DeploymentState = (typeof deploymentStates)[number];

/** A usage report: nested objects of numbers (memory, cpu, hostCalls, bytes, restarts) and the engine's name, bounded in size (the body reader's 64-level limit bounds the nesting). */
const usageValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.number().finite(), z.null(), z.record(z.string().max(128), usageValue).refine((o) => Object.keys(o).length <= 256, 'at most 256 members')]),
);
/** Its one text member: the engine the app runs on (docs/accounting.md). */
const usageSchema = z
  .object({ engine: engineNameSchema.optional() })
  .catchall(usageValue)
  .refine((o) => Object.keys(o).every((k) => k.length <= 64), 'a usage member name is at most 64 characters')
  .refine((o) => Object.keys(o).length <= 32 && JSON.stringify(o).length <= 65_536, 'a usage report is at most 32 members and 64 KiB');

/** Longest error message in a status report (UTF-16 code units); devices cut theirs to it on a code-point boundary. */
export const STATUS_MESSAGE_LIMIT = 4096;
/** The bounds of a status report's error fields; the agent cuts each to them (runtime/agent/status-report.ts). */
export const STATUS_ERROR_FIELD_MAX = { code: 256, source: 256, message: STATUS_MESSAGE_LIMIT } as const;

/**
 * Last-known-good (docs/agent.md): the device went back by itself from the version the report is
 * about to the one it ran before, because the new one failed its probation. The report's state is
 * Margo's `failed` with `error.code` = ROLLED_BACK_CODE; this member says from what, to what, why.
 */
export const ROLLED_BACK_CODE = 'agent.rolled_back';
/** The code of a deployment a device will not run because a security advisory stops its digest (docs/vulnerability-response.md). */
export const ADVISORY_REFUSED_CODE = 'agent.advisory_refused';
export const rollbackReasons = ['restart-storm', 'start-failed'] as const;
export type RollbackReason = (typeof rollbackReasons)[number];
export const rollbackSchema = z.object({
  fromVersion: z.string().max(128),
  toVersion: z.string().max(128),
  reason: z.enum(rollbackReasons),
  /** Restarts counted within the health window when it was decided. */
  restarts: z.number().int().min(0).max(1_000_000),
  at: z.string().max(64),
});
export type DeviceRollback = z.infer<typeof rollbackSchema>;

const errorSchema = z.object({
  code: z.string().max(STATUS_ERROR_FIELD_MAX.code).optional(),
  source: z.string().max(STATUS_ERROR_FIELD_MAX.source).optional(),
  message: z.string().max(STATUS_ERROR_FIELD_MAX.message).optional(),
});

/** Margo's DeploymentStatusManifest, as a device reports it. */
export const deploymentStatusSchema = z.object({
  deploymentId: deploymentIdSchema,
  deviceId: deviceIdSchema,
  adoptedManifestVersion: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  status: z.object({ state: z.enum(deploymentStates), error: errorSchema.optional() }),
  components: z
    .array(z.object({ name: z.string().min(1).max(256), state: z.enum(deploymentStates), error: errorSchema.optional() }))
    .max(64)
    .optional(),
  /** Berth: the app version the report is about, its resource usage (docs/accounting.md), and a rollback the device made by itself. */
  'x-berth-extensions': z.object({ version: z.string().max(128).optional(), usage: usageSchema.optional(), rollback: rollbackSchema.optional() }).optional(),
});
export type DeploymentStatus = z.infer<typeof deploymentStatusSchema>;
