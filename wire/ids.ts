import { parse } from 'semver';
import { z } from 'zod';

/**
 * Every id and name both sides use, declared once. Each is as strict as its strictest consumer,
 * so whatever the control plane admits, every device (and every place the value ends up) accepts:
 * file and folder names on the device, SPIFFE ID path segments, URL path segments, PostgreSQL text.
 */

/**
 * Margo's device id: hierarchical (`gateway/child`), unreserved URL characters only. At most 253
 * characters (it is a path in the device's SPIFFE ID and its certificate), and no `.` or `..`
 * segment (it would mean another path once the SPIFFE ID or a URL is normalised).
 */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/;
export const DEVICE_ID_MAX = 253;

/** The segment that starts a workload's part of a SPIFFE ID (trust/workload/spiffe-id.ts). */
export const WORKLOAD_SEGMENT = 'workload';

export function isDeviceId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > DEVICE_ID_MAX || !DEVICE_ID_PATTERN.test(value)) return false;
  const segments = value.split('/');
  return !segments.some((s) => s === '.' || s === '..') && !readsAsWorkload(segments);
}

/**
 * Whether a device id ends like a workload's part (`…/workload/<vendor>/<app>`): its SPIFFE ID
 * would read as a workload of the device above it, so no device may have it (docs/onboarding.md).
 */
function readsAsWorkload(segments: readonly string[]): boolean {
  const n = segments.length;
  return n >= 4 && segments[n - 3] === WORKLOAD_SEGMENT && NAME_PATTERN.test(segments[n - 2]!) && NAME_PATTERN.test(segments[n - 1]!);
}
export const deviceIdSchema = z
  .string()
  .refine(
    isDeviceId,
    `not a Margo device id (1-${DEVICE_ID_MAX} of A-Z a-z 0-9 . _ ~ -, segments separated by /, no . or .. segment, not ending like a workload's /workload/<vendor>/<app>)`,
  );

/**
 * A deployment id is an RFC 1123 DNS label: 1-63 lowercase letters, digits and `-`, starting and
 * ending with a letter or digit. It names a file on the device (`<id>.yaml` in the bundle), a URL
 * path segment and a Kubernetes-style `metadata.name`; a generated one is a UUID, which fits.
 */
export const DEPLOYMENT_ID_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const deploymentIdSchema = z
  .string()
  .regex(DEPLOYMENT_ID_PATTERN, 'a deployment id is 1-63 lowercase letters, digits and -, starting and ending with a letter or digit');

/**
 * A vendor name: the `<name>` of a `vendor:<name>` role, a folder on the device and a SPIFFE ID
 * path segment (`…/workload/<vendor>/<app>`).
 */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const vendorNameSchema = z.string().regex(NAME_PATTERN, 'a vendor name is 1-63 lowercase letters, digits, . _ -, starting with a letter or digit');

/**
 * An app id: a vendor-style name (it names the app's folder on the device and its SPIFFE ID
 * segment) restricted to Margo's applicationId characters (`[-a-z0-9]`), so it is both.
 */
export const APP_ID_PATTERN = /^[a-z0-9][-a-z0-9]{0,62}$/;
export const appIdSchema = z.string().regex(APP_ID_PATTERN, 'an app id is 1-63 lowercase letters, digits and -, starting with a letter or digit');

/** SemVer as Margo writes it: no leading v, `_` in place of `+` (OCI tags cannot hold `+`). */
export const versionSchema = z.string().max(128).refine(isMargoVersion, 'a version is SemVer 2.0 without a leading v, with _ in place of +');

/**
 * Whether `v` is SemVer with `_` for the `+` of build metadata. semver's `valid` answers the
 * version without its build metadata, so comparing with it refused every version that had some;
 * the parsed parts, put back together, must give the text exactly (no `v`, no spaces).
 */
export function isMargoVersion(v: string): boolean {
  if (v.includes('+')) return false;
  const text = semverOfMargo(v);
  const parsed = parse(text);
  return parsed !== null && `${parsed.version}${parsed.build.length ? `+${parsed.build.join('.')}` : ''}` === text;
}

/** A Margo version as SemVer text, for semver's comparisons and ranges: its `_` back to `+`. */
export function semverOfMargo(v: string): string {
  return v.replace('_', '+');
}

/** A MAC address as a device reports it: six lowercase hex pairs separated by `:`. */
export const macAddressSchema = z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, 'a MAC address is six lowercase hex pairs separated by :');
/** How many MAC addresses one device may report at onboarding (and so configure). */
export const macAddressesSchema = z.array(macAddressSchema).max(8);
