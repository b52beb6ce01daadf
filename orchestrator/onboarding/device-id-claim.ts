import { HttpProblem } from '../http/problem.js';
import * as devices from '../store/devices.js';
import type { Queryable } from '../store/store.js';

/**
 * A device id may not sit above or below another device's (`gw` and `gw/child`): a device's
 * SPIFFE ID, and the workload IDs under it, must never be a path prefix of another device's, or
 * one device could pass for another's child or workloads (docs/onboarding.md "Device ids").
 * Checked for every onboarding method and for tokens that pre-assign an id; callers that claim
 * an id hold `devices.lockDeviceIds` so two claims cannot race.
 */
export async function refuseNestedId(q: Queryable, deviceId: string): Promise<void> {
  const nested = await devices.nestedDeviceIds(q, deviceId);
  if (nested.length > 0) throw nestedIdProblem(deviceId, nested);
}

function nestedIdProblem(deviceId: string, nested: readonly string[]): HttpProblem {
  const message = `'${deviceId}' is nested with existing device id${nested.length > 1 ? 's' : ''} ${nested.map((n) => `'${n}'`).join(', ')}: no device id may be a path prefix of another`;
  return new HttpProblem(409, 'onboarding.nested_device_id', "The device id is nested with another device's", {
    detail: message,
    errors: [{ field: 'deviceId', message }],
    retryable: false,
  });
}
