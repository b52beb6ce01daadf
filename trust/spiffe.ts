import { BerthError } from '../common/errors.js';
import { isDeviceId } from '../wire/ids.js';

/** SPIFFE trust domain: lowercase letters, digits, dots, dashes, underscores. */
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

/** Margo's deviceId grammar (wire/ids.ts): hierarchical segments, so gateways can name the devices behind them. */
export { isDeviceId, WORKLOAD_SEGMENT } from '../wire/ids.js';

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
