import { z } from 'zod';

/**
 * A deployment's resource limits, as admitted and as signed to the device. Absent fields mean the
 * device's sandbox defaults (runtime/sandbox/sandbox.ts DEFAULT_LIMITS).
 */
export const limitsSchema = z.strictObject({
  memoryBytes: z
    .number()
    .int()
    .positive()
    .max(2 ** 40)
    .optional(),
  cpuDeadlineMs: z.number().int().positive().max(3_600_000).optional(),
});
export type Limits = z.output<typeof limitsSchema>;
