import { BerthError } from '../common/errors.js';

/** Margo's deviceId grammar: hierarchical segments, so gateways can name the devices behind them. */
const DEVICE_ID = /^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/;
/**
 * The segment that starts a workload's part of a SPIFFE ID (trust/workload/spiffe-id.ts): a
 * device id holding it would name, or be read as, a workload of another device.
 */
export const WORKLOAD_SEGMENT = 'workload';
/** SPIFFE trust domain: lowercase letters, digits, dots, dashes, underscores. */
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

export function isDeviceId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 255 && DEVICE_ID.test(value) && !value.split('/').some((s) => s === '.' || s === '..' || s === WORKLOAD_SEGMENT);
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
