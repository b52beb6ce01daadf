import { z } from 'zod';
import { NAME_PATTERN } from '../../wire/ids.js';
import { labelsSchema } from '../../wire/onboarding.js';

/**
 * The bodies of the operator endpoints under /api/v1/admin (routes/admin-routes.ts): read with
 * readJson and described by routes/admin-api.ts for the OpenAPI document.
 */
const idField = z.string().min(1).max(255);
const fingerprint = z.string().regex(/^[0-9a-f]{64}$/);

/** Onboarding request ids are 16 random bytes in hex (onboarding/service.ts). */
export const ONBOARDING_REQUEST_ID = /^[0-9a-f]{32}$/;

export const tokenBody = z.strictObject({ name: z.string().min(1).max(100), role: z.string().min(1).max(80) });

export const enrollmentTokenBody = z.strictObject({
  deviceId: idField.optional(),
  labels: labelsSchema.optional(),
  ttlSeconds: z.number().int().min(1).max(2_592_000).default(3600),
});

export const deviceRevocationBody = z.strictObject({ deviceId: idField, reason: z.string().max(500).default('revoked by operator') });

export const onboardingApprovalBody = z.strictObject({ required: z.boolean() });

export const manufacturerBody = z.strictObject({
  name: z.string().regex(NAME_PATTERN, 'a manufacturer name is 1-63 lowercase letters, digits, . _ -, starting with a letter or digit'),
  certificate: z.string().min(1).max(16_384),
});

export const caRotationBody = z.strictObject({ newRoot: z.boolean().default(false), rootKeyPem: z.string().max(16_384).optional() });

export const signingRotationBody = z.strictObject({ signingCa: z.boolean().default(true), timestampAuthority: z.boolean().default(false) });

/** A CA or signing root to take out of service, by the hex SHA-256 of its DER certificate. */
export const retirementBody = z.strictObject({ fingerprint });

/*
 * Their answers: described by routes/admin-api.ts and the type each handler's answer satisfies,
 * so the document and the code cannot drift apart. Those the CLI reads as well live in wire/
 * (wire/devices.ts, wire/onboarding.ts, wire/tokens.ts).
 */
const fingerprintOut = z.string().describe('hex SHA-256 of the DER certificate');
const signingRoots = { signingCas: z.number().int(), timestampAuthorities: z.number().int(), signingRootsDigest: z.string() };

export const manufacturerTrusted = z.object({ name: z.string(), fingerprint: fingerprintOut });
export const caRotated = z.object({ root: fingerprintOut, intermediate: fingerprintOut, sequence: z.number().int() });
export const desiredStateKeyRotated = z.object({ keyId: z.string(), previous: z.array(z.string()) });
/** What a rotation of the fleet signing CA and/or TSA answers (docs/signing.md "Rotating the roots"). */
export const fleetSigningRotated = z.object({ signingCa: fingerprintOut, timestampAuthority: fingerprintOut, ...signingRoots });
export const fleetSigningRetired = z.object({ fingerprint: fingerprintOut, ...signingRoots });
export const caRetired = z.object({ fingerprint: fingerprintOut, sequence: z.number().int() });

export type Answer<S extends z.ZodType> = z.output<S>;
