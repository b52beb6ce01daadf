import { z } from 'zod';

/**
 * What POST /api/v1/admin/tokens and …/enrollment-tokens answer (orchestrator/routes/admin-api.ts):
 * the new token with its secret, shown only here. Declared here because `berth token` reads them.
 */
export const tokenCreated = z.object({ id: z.string(), token: z.string(), role: z.string() });
export type TokenCreated = z.output<typeof tokenCreated>;
export const enrollmentTokenCreated = z.object({ id: z.string(), token: z.string(), expiresAt: z.string(), deviceId: z.string().nullable() });
export type EnrollmentTokenCreated = z.output<typeof enrollmentTokenCreated>;
