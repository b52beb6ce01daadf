import { z } from 'zod';

/**
 * RFC 9457 problem documents with Margo's extension members. Shared by the control plane (which
 * sends them) and the device agent (which reads `retryable` / `retryAfterSeconds` to back off).
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const backoffStrategies = ['none', 'fixed', 'exponential'] as const;
export type BackoffStrategy = (typeof backoffStrategies)[number];

export const fieldErrorSchema = z.object({ field: z.string(), message: z.string() });
export type FieldError = z.infer<typeof fieldErrorSchema>;

export const problemSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(100).max(599),
  detail: z.string().optional(),
  instance: z.string().optional(),
  retryable: z.boolean().optional(),
  retryAfterSeconds: z.number().int().nonnegative().optional(),
  backoffStrategy: z.enum(backoffStrategies).optional(),
  errors: z.array(fieldErrorSchema).optional(),
  /** Berth's stable error code, the last part of `type`. */
  code: z.string().optional(),
});
export type Problem = z.infer<typeof problemSchema>;

/** Problem types are URNs under Berth's namespace, one per stable error code. */
export function problemType(code: string): string {
  return `urn:berth:problem:${code}`;
}
