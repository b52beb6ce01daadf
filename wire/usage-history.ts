import { z } from 'zod';
import { deploymentIdSchema } from './ids.js';

/**
 * An app's resource use over time on one device: the control plane samples the usage devices
 * send with their status reports (docs/accounting.md) and serves it at
 * `GET /api/v1/admin/devices/{deviceId}/usage`, which the console's device page draws.
 */

/** At most one sample per device and deployment this often; a report sooner adds none (its figures stay the live "last report"). */
export const USAGE_SAMPLE_INTERVAL_SECONDS = 60;

/** The most samples one answer holds: a day of one app at one per interval. */
export const USAGE_HISTORY_MAX = 1440;

/** A figure a report may lack (an older agent, Wasmtime's memory): null, never guessed. */
const figure = z.number().nullable();

export const usageSampleSchema = z.object({
  deploymentId: z.string(),
  /** The app version the report was about. */
  version: z.string(),
  /** ISO 8601, the store's clock when the report was recorded. */
  at: z.string(),
  /** `memory.bytes`: guest linear memory of the running instance. */
  memoryBytes: figure,
  /** `cpu.busyMs`: cumulative time the app's thread spent running it. */
  cpuBusyMs: figure,
  /** `bytes.in` / `bytes.out`: cumulative payload bytes through host APIs. */
  bytesIn: figure,
  bytesOut: figure,
  restarts: figure,
});
export type UsageSample = z.infer<typeof usageSampleSchema>;

/** An ISO 8601 date-time with an offset or Z; the refine keeps a NaN instant from ever reaching the store. */
const isoTime = z.iso.datetime({ offset: true }).refine((v) => !Number.isNaN(Date.parse(v)), 'not a real date and time');

export const usageHistoryQuerySchema = z.strictObject({
  /** Only samples at or after this time. */
  since: isoTime.optional(),
  /** Only this deployment's samples. */
  deploymentId: deploymentIdSchema.optional(),
  /** The newest this many samples (of those matching). */
  limit: z.coerce.number().int().min(1).max(USAGE_HISTORY_MAX).default(USAGE_HISTORY_MAX),
});
export type UsageHistoryQuery = z.infer<typeof usageHistoryQuerySchema>;

export const usageHistorySchema = z.object({
  deviceId: z.string(),
  /** The sampling bound: at most one sample per deployment this many seconds apart. */
  intervalSeconds: z.number().int().positive(),
  /** The newest `limit` matching samples, oldest first. */
  samples: z.array(usageSampleSchema),
  /** Older matching samples were left out: narrow `since` or `deploymentId` to see them. */
  truncated: z.boolean(),
});
export type UsageHistory = z.infer<typeof usageHistorySchema>;
