import { valid } from 'semver';
import { z } from 'zod';
import { isDigest } from '../../common/digest.js';

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

/** Vendor names are the `<name>` of a `vendor:<name>` role. */
export const vendorName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a vendor name is lowercase letters, digits, . _ - (at most 63)');
/** Margo `applicationId`. */
export const appId = z.string().regex(/^[-a-z0-9]{1,200}$/, 'an app id is 1-200 lowercase letters, digits and -');
/** SemVer as Margo writes it: no leading v, `_` in place of `+` (OCI tags cannot hold `+`). */
export const appVersion = z
  .string()
  .max(128)
  .refine((v) => !v.includes('+') && valid(v.replace('_', '+')) === v.replace('_', '+'), 'a version is SemVer 2.0 without a leading v, with _ in place of +');

export const vendorBody = z.strictObject({
  name: vendorName,
  /** Kept as given for the supply-chain admission; only its shape (an object) is checked here. */
  trustPolicy: storedObject.default({}),
});

export const trustPolicyBody = z.strictObject({ trustPolicy: storedObject });

export const appBody = z.strictObject({
  id: appId,
  /** Required for admins; a vendor token may only name itself (or leave it out). */
  vendor: vendorName.optional(),
  description: z.string().max(1000).refine((d) => storable(d), NUL_MESSAGE).default(''),
});

const importName = z.string().regex(/^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*\/[a-z][a-z0-9-]*(@[0-9A-Za-z.+-]+)?$/, 'an import is a WIT interface name such as wasi:http/types@0.2.0');

export const versionBody = z.strictObject({
  version: appVersion,
  component: z.strictObject({
    repository: z.string().regex(/^oci:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?\/[a-z0-9._/-]+$/, 'the repository is oci://registry/repository, without tag or digest').max(512),
    digest: z.string().refine(isDigest, 'a digest is sha256: and 64 lowercase hex digits'),
    sizeBytes: z.number().int().positive().max(2 ** 40),
  }),
  /** The component's imports, as the vendor's tooling read them; admission checks grants against these. */
  imports: z.array(importName).max(512),
});
