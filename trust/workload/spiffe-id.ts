import { BerthError } from '../../common/errors.js';
import { deviceSpiffeId, isDeviceId, WORKLOAD_SEGMENT } from '../spiffe.js';
import { NAME_PATTERN } from '../../wire/ids.js';

/**
 * A workload's SPIFFE ID: its device's ID, then `/workload/<vendor>/<app>`:
 *   spiffe://factory.example/device/line-3/plc-7/workload/acme/sensor
 * Device ids may themselves contain `/` (gateways), so the workload part is read from the end:
 * the last `/workload/` followed by exactly two names. Vendor and app names never contain `/`.
 */
const NAME = NAME_PATTERN;
const MARKER = `/${WORKLOAD_SEGMENT}/`;

export interface WorkloadName {
  trustDomain: string;
  deviceId: string;
  vendor: string;
  app: string;
}

export function workloadSpiffeId(w: WorkloadName): string {
  if (!NAME.test(w.vendor) || !NAME.test(w.app)) throw new BerthError('identity.bad_name', `"${w.vendor}/${w.app}" is not a valid vendor/app name`);
  return `${deviceSpiffeId(w.trustDomain, w.deviceId)}${MARKER}${w.vendor}/${w.app}`;
}

export function parseWorkloadSpiffeId(id: string): WorkloadName | undefined {
  const m = /^spiffe:\/\/([a-z0-9._-]+)\/device\/(.+)$/.exec(id);
  if (!m) return undefined;
  const rest = m[2]!;
  const at = rest.lastIndexOf(MARKER);
  if (at <= 0) return undefined;
  const deviceId = rest.slice(0, at);
  const [vendor, app, ...extra] = rest.slice(at + MARKER.length).split('/');
  if (extra.length || !vendor || !app || !NAME.test(vendor) || !NAME.test(app) || !isDeviceId(deviceId)) return undefined;
  return { trustDomain: m[1]!, deviceId, vendor, app };
}
