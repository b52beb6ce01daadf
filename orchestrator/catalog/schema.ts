import { z } from 'zod';
import { appIdSchema, vendorNameSchema, versionSchema } from '../../wire/ids.js';

/** True when no string (value or key) anywhere holds U+0000, which PostgreSQL text and jsonb refuse. */
export function storable(v: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (typeof v === 'string') return !v.includes('\u0000');
  if (Array.isArray(v)) return v.every((x) => storable(x, depth + 1));
  if (v !== null && typeof v === 'object') return Object.entries(v).every(([k, x]) => !k.includes('\u0000') && storable(x, depth + 1));
  return true;
}
const NUL_MESSAGE = 'must not contain U+0000 (NUL) or nest deeper than 64 levels';
/** A JSON object kept as given (trust policy, grants, parameters): any shape the store can hold. */
export const storedObject = z.record(z.string(), z.unknown()).refine((o) => storable(o), NUL_MESSAGE);

export const vendorBody = z.strictObject({
  name: vendorNameSchema,
  /** A vendor trust policy (trust/signing/policy.ts) for this vendor, with its namespace; checked by checkTrustPolicy. */
  trustPolicy: storedObject,
});

export const trustPolicyBody = z.strictObject({ trustPolicy: storedObject });

export const appBody = z.strictObject({
  id: appIdSchema,
  /** Required for admins; a vendor token may only name itself (or leave it out). */
  vendor: vendorNameSchema.optional(),
  description: z
    .string()
    .max(1000)
    .refine((d) => storable(d), NUL_MESSAGE)
    .default(''),
});

/**
 * A version names its artifact; admission (artifact-admission.ts) resolves, verifies and reads
 * it. Digest, size and imports are not accepted from the vendor: they come from the bytes.
 */
export const versionBody = z.strictObject({
  version: versionSchema,
  component: z.strictObject({
    /** `oci://registry/repo:VERSION` (the tag is the version, Margo's SemVer form) or `oci://registry/repo@sha256:…`. */
    reference: z
      .string()
      .max(600)
      .regex(/^oci:\/\//, 'the reference is oci://registry/repository:VERSION or …@sha256:<digest>')
      .refine((a) => storable(a), NUL_MESSAGE),
  }),
});

/* The catalog's answers are in wire/catalog.ts: the console reads them too. */
