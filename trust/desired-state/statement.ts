import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * A signed desired-state statement: what a control plane vouches for about one device's Margo
 * state manifest. It rides beside the unchanged, unsigned Margo body (see docs/desired-state.md).
 */
export const DESIRED_STATE_JWS_TYPE = 'berth-desired-state+jwt';
/** The response header that carries the compact JWS next to the Margo manifest. */
export const DESIRED_STATE_SIGNATURE_HEADER = 'berth-desired-state-signature';

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/);

export const desiredStateClaimsSchema = z.object({
  iss: z.string().min(1),
  /** The device id the statement is for. */
  sub: z.string().min(1),
  /** RFC 8705 confirmation: base64url SHA-256 of the DER device certificate it was served to. */
  cnf: z.object({ 'x5t#S256': z.string().regex(/^[A-Za-z0-9_-]{43}$/) }),
  manifestVersion: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** sha256 of the exact manifest bytes (the ETag). */
  manifestDigest: digest,
  bundleDigest: digest.nullable(),
  deployments: z.array(z.object({ deploymentId: z.string().min(1), digest })),
  /**
   * sha256 of the fleet signing roots the control plane serves (trust/signing/roots.ts
   * `signingRootsDigest`): lets a device follow a rotation of the signing CA or TSA. Optional, so
   * statements from a control plane that does not send it still verify (and change nothing).
   */
  signingRootsDigest: digest.optional(),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type DesiredStateClaims = z.infer<typeof desiredStateClaimsSchema>;

/** `x5t#S256` of a certificate, from its DER bytes or from its hex SHA-256 fingerprint. */
export function certificateThumbprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

export function thumbprintFromHexFingerprint(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}
