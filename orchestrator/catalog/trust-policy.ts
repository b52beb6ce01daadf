import { BerthError } from '../../common/errors.js';
import type { DesiredStateChanged } from '../desired-state/placement.js';
import { HttpProblem, validationProblem } from '../http/problem.js';
import * as catalog from '../store/catalog.js';
import type { Store } from '../store/store.js';
import { vendorPolicy } from './artifact-admission.js';

/**
 * A vendor's trust policy is checked when it is set, not when it is first needed: it must be
 * a valid policy (trust/signing/policy.ts), name this vendor (filled in when left out), and give
 * its namespace (`repositories`), since admission refuses anything outside it. Returns what is stored.
 */
export function checkTrustPolicy(name: string, given: Record<string, unknown>): Record<string, unknown> {
  // The policy travels to devices on its own, so it names its vendor; left out, it is this one.
  const trustPolicy = given.vendor === undefined ? { vendor: name, ...given } : given;
  try {
    vendorPolicy({ name, trustPolicy, createdAt: new Date() });
    return trustPolicy;
  } catch (err) {
    if (err instanceof BerthError) throw validationProblem([{ field: 'trustPolicy', message: err.message }], 'catalog.bad_trust_policy');
    throw err;
  }
}

/**
 * Replaces a vendor's policy. The policy is rendered into every deployment document of the
 * vendor's apps, so each device running one gets a new desired state in the same transaction.
 * Versions admitted under the old policy are re-checked against the new one at their next
 * deployment or rollout (orchestrator/deployments/admission.ts).
 */
export async function replaceTrustPolicy(
  store: Store,
  name: string,
  given: Record<string, unknown>,
  changed: DesiredStateChanged,
): Promise<{ trustPolicy: Record<string, unknown>; devices: string[] }> {
  const trustPolicy = checkTrustPolicy(name, given);
  return store.transaction(async (tx) => {
    if (!(await catalog.setTrustPolicy(tx, name, trustPolicy)))
      throw new HttpProblem(404, 'catalog.unknown_vendor', 'No such vendor', { detail: `no vendor '${name}'` });
    const devices = await catalog.devicesRunningVendor(tx, name);
    if (devices.length > 0) await changed(tx, devices);
    return { trustPolicy, devices };
  });
}
