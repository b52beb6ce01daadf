import { z } from 'zod';

/**
 * POST /api/v1/signing/certificates (orchestrator/routes/signing-api.ts): a short-lived code-signing
 * certificate for a vendor's key (docs/signing.md). Declared here because `berth signing-cert` reads it.
 */
export const signingCertificateAnswer = z.object({
  certificate: z.string(),
  chain: z.array(z.string()),
  identity: z.string(),
  issuer: z.string(),
  validForSeconds: z.number().int(),
});
export type SigningCertificateAnswer = z.output<typeof signingCertificateAnswer>;
