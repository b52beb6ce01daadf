import { z } from 'zod';

/**
 * What GET /api/v1/whoami answers: the caller's token, never its secret
 * (orchestrator/routes/whoami-routes.ts). The console signs in with it.
 */
export const whoAmISchema = z.object({
  name: z.string(),
  role: z.string(),
  /** The vendor a `vendor:<name>` token speaks for; absent for operators and admins. */
  vendor: z.string().optional(),
});
export type WhoAmI = z.infer<typeof whoAmISchema>;
