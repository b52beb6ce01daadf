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

/* Answers of the catalog endpoints (routes/vendor-api.ts): the store's records as JSON, dates as ISO 8601. */
const trustPolicyOut = z.record(z.string(), z.unknown()).describe('The vendor trust policy (docs/admission.md)');
export const vendorRegistered = z.object({ name: z.string(), trustPolicy: trustPolicyOut });
export const vendorShown = vendorRegistered.extend({ createdAt: z.string() });
export const vendorsListed = z.object({ vendors: z.array(vendorShown) });
export const trustPolicyReplaced = z.object({ name: z.string(), trustPolicy: trustPolicyOut, rerenderedDevices: z.number().int() });
export const appShown = z.object({ id: z.string(), vendor: z.string(), description: z.string(), createdAt: z.string() });
export const appsListed = z.object({ apps: z.array(appShown) });

/** An admitted version (store/catalog.ts AppVersionRecord as JSON): its artifact and what admission verified. */
export const versionShown = z.object({
  appId: z.string(),
  version: z.string(),
  component: z.object({ repository: z.string(), digest: z.string(), sizeBytes: z.number().int() }),
  imports: z.array(z.string()),
  verification: z
    .object({
      policyFingerprint: z.string(),
      rootsFingerprint: z.string(),
      componentDigest: z.string(),
      signer: z.string(),
      provenance: z.object({ builderId: z.string(), sourceRepository: z.string().optional() }).optional(),
      sbom: z.object({ components: z.number().int(), packages: z.number().int() }).optional(),
      verifiedAt: z.string(),
    })
    .nullable()
    .describe('Null only for versions admitted before verification was recorded'),
  createdAt: z.string(),
});
export const versionsListed = z.object({ app: z.string(), versions: z.array(versionShown) });
