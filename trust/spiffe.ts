import { BerthError } from '../common/errors.js';

/** Margo's deviceId grammar: hierarchical segments, so gateways can name the devices behind them. */
const DEVICE_ID = /^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/;
/** The segment that starts a workload's part of a SPIFFE ID (trust/workload/spiffe-id.ts). */
export const WORKLOAD_SEGMENT = 'workload';
/** Vendor and app names as a workload SPIFFE ID carries them. */
export const WORKLOAD_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * Whether a device id ends like a workload's part (`…/workload/<vendor>/<app>`): its SPIFFE ID
 * would read as a workload of the device above it, so no device may have it.
 */
function readsAsWorkload(segments: readonly string[]): boolean {
  const n = segments.length;
  return n >= 4 && segments[n - 3] === WORKLOAD_SEGMENT && WORKLOAD_NAME.test(segments[n - 2]!) && WORKLOAD_NAME.test(segments[n - 1]!);
}
/** SPIFFE trust domain: lowercase letters, digits, dots, dashes, underscores. */
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

export function isDeviceId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 255 || !DEVICE_ID.test(value)) return false;
  const segments = value.split('/');
  return !segments.some((s) => s === '.' || s === '..') && !readsAsWorkload(segments);
}

export function assertTrustDomain(value: string): string {
  if (!TRUST_DOMAIN.test(value) || value.length > 255) {
    throw new BerthError('trust.bad_trust_domain', `'${value}' is not a SPIFFE trust domain (lowercase letters, digits, '.', '-', '_')`);
  }
  return value;
}

export function deviceSpiffeId(trustDomain: string, deviceId: string): string {
  if (!isDeviceId(deviceId)) throw new BerthError('trust.bad_device_id', `'${deviceId}' is not a valid device id`);
  return `spiffe://${trustDomain}/device/${deviceId}`;
}

export function controlPlaneSpiffeId(trustDomain: string): string {
  return `spiffe://${trustDomain}/control-plane`;
}

/** The device id named by a SPIFFE ID in this trust domain, or undefined when it names anything else. */
export function deviceIdFromSpiffeId(trustDomain: string, spiffeId: string): string | undefined {
  const prefix = `spiffe://${trustDomain}/device/`;
  if (!spiffeId.startsWith(prefix)) return undefined;
  const id = spiffeId.slice(prefix.length);
  return isDeviceId(id) ? id : undefined;
}
