import { z } from 'zod';
import { deviceIdSchema } from './ids.js';

/**
 * The audit log: every security event the control plane raises (common/logger.ts
 * `securityEvent`), kept in its store as well as logged, and read back by operators
 * (`GET /api/v1/admin/audit`, `berth events`, the console). docs/audit.md.
 */

/** An event name: dotted lower-case words, as `onboarding.approved` or `advisory.rolled_back`. */
export const AUDIT_EVENT_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

export const auditEventSchema = z.object({
  /** Increases with every event the store takes; a cursor for paging and for following. */
  id: z.number().int().positive(),
  /** ISO 8601, the store's clock. */
  at: z.string(),
  event: z.string().regex(AUDIT_EVENT_PATTERN),
  /** Who acted, where the event says (an operator token's name, a device id). */
  actor: z.string().nullable(),
  /** The device the event is about, where it names one. */
  deviceId: z.string().nullable(),
  fields: z.record(z.string(), z.unknown()),
});
export type AuditEvent = z.infer<typeof auditEventSchema>;

export const AUDIT_PAGE_MAX = 1000;

/**
 * A page of the audit log. Without `after`: newest first, older pages by `before`. With `after`:
 * oldest first from that id on, for following the log as it grows.
 */
export const auditQuerySchema = z
  .strictObject({
    before: z.coerce.number().int().positive().optional(),
    after: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(100),
    /** An event name, or a prefix ending in `.` (`onboarding.`). */
    event: z
      .string()
      .max(200)
      .regex(/^[a-z][a-z0-9_.]*$/, 'an event name or a prefix such as onboarding.')
      .optional(),
    deviceId: deviceIdSchema.optional(),
  })
  .refine((q) => q.before === undefined || q.after === undefined, 'before and after cannot be combined');
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export const auditPageSchema = z.object({
  events: z.array(auditEventSchema),
  /** The cursor for the next page (`before` newest-first, `after` when following); absent at the end. */
  next: z.number().int().optional(),
});
export type AuditPage = z.infer<typeof auditPageSchema>;
