import { z } from 'zod';
import { macAddressesSchema } from './ids.js';

/**
 * The onboarding and renewal exchange between the device agent and the control plane.
 * The device always sends a CSR made with a key it generated (proof of possession); the
 * method-specific fields authorise it.
 */
const pem = z.string().min(1).max(16_384);
const labels = z.record(z.string().regex(/^[a-z0-9][a-z0-9._/-]{0,62}$/), z.string().max(256)).refine((l) => Object.keys(l).length <= 64, 'at most 64 labels');

export const tokenOnboardingSchema = z.strictObject({
  method: z.literal('token'),
  csr: pem,
  token: z.string().min(16).max(200),
});

export const factoryOnboardingSchema = z.strictObject({
  method: z.literal('factory-certificate'),
  csr: pem,
  /** The IDevID leaf first, then any manufacturer intermediates, as PEM. */
  factoryCertificates: z.array(pem).min(1).max(4),
  /** base64url ECDSA P-256 SHA-256 (IEEE P1363) signature by the IDevID key over FACTORY_SIGNING_PREFIX + CSR DER. */
  signature: z.string().regex(/^[A-Za-z0-9_-]{20,200}$/),
  /** Extra identifiers the device reports (e.g. MAC addresses), resolved to the same device id. */
  macAddresses: macAddressesSchema.optional(),
});

export const onboardingRequestSchema = z.discriminatedUnion('method', [tokenOnboardingSchema, factoryOnboardingSchema]);
export type OnboardingRequest = z.infer<typeof onboardingRequestSchema>;

/** Domain separation for the factory-key signature: it can never be mistaken for another protocol's. */
export const FACTORY_SIGNING_PREFIX = 'berth factory onboarding v1\n';

export const issuedIdentitySchema = z.strictObject({
  status: z.literal('issued'),
  deviceId: z.string(),
  spiffeId: z.string(),
  /** The device certificate (PEM). */
  certificate: z.string(),
  /** Intermediates above it (PEM), to present in the TLS handshake. */
  chain: z.array(z.string()),
  notAfter: z.string(),
  trustBundleUri: z.string(),
});
export type IssuedIdentity = z.infer<typeof issuedIdentitySchema>;

export const pendingOnboardingSchema = z.strictObject({
  status: z.literal('pending'),
  requestId: z.string(),
  deviceId: z.string(),
  retryAfterSeconds: z.number().int().nonnegative(),
  pollUri: z.string(),
});
export type PendingOnboarding = z.infer<typeof pendingOnboardingSchema>;

export type OnboardingAnswer = IssuedIdentity | PendingOnboarding;

export const renewalRequestSchema = z.strictObject({ csr: pem });

export const wellKnownMargoSchema = z.object({ trustDomain: z.string(), trustBundleUri: z.string() });
export { labels as labelsSchema };

/** GET /api/v1/identity: who the calling device is, by its certificate. */
export const deviceIdentitySchema = z.object({ deviceId: z.string(), spiffeId: z.string(), notAfter: z.string(), bundleSequence: z.number().int() });
export type DeviceIdentity = z.infer<typeof deviceIdentitySchema>;

/**
 * GET /api/v1/admin/onboarding-requests: the requests waiting for an operator's approval
 * (orchestrator/store/requests.ts OnboardingRequestRecord as JSON, without the CSR). The
 * console's onboarding page reads it.
 */
export const pendingRequestSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  method: z.string(),
  publicKeySha256: z.string(),
  status: z.literal('pending'),
  certificateFingerprint: z.string().nullable(),
  createdAt: z.string(),
});
export type PendingRequest = z.output<typeof pendingRequestSchema>;
export const onboardingRequestsListed = z.object({ requests: z.array(pendingRequestSchema) });
export type OnboardingRequestsListed = z.output<typeof onboardingRequestsListed>;

/** POST /api/v1/admin/onboarding-requests/{id}/approve|deny: the decision; an approval names the device let in. */
export const onboardingDecided = z.object({ requestId: z.string(), status: z.enum(['approved', 'denied']), deviceId: z.string().optional() });
export type OnboardingDecided = z.output<typeof onboardingDecided>;
