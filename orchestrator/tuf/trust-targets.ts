import type { Queryable } from '../store/store.js';
import { listVendors } from '../store/catalog.js';
import { FLEET_TARGETS, vendorPolicyTarget } from '../../wire/tuf.js';
import type { TargetDocument } from './online-roles.js';

/** Where the fleet's trust documents are read from, each as the API that serves it today answers. */
export interface TrustSources {
  store: Queryable;
  trustBundle(): Promise<unknown>;
  signingRoots(): unknown;
  desiredStateKeys(): unknown;
}

/**
 * The trust documents the TUF repository lists as targets (docs/tuf.md): the fleet CA bundle,
 * the fleet signing roots, the desired-state keys and every vendor's trust policy. Each body is
 * the JSON the matching endpoint serves, so a device reads one shape whichever way it came.
 */
export function fleetTrustDocuments(sources: TrustSources): () => Promise<TargetDocument[]> {
  return async () => {
    const documents: TargetDocument[] = [
      { path: FLEET_TARGETS.trustBundle, body: JSON.stringify(await sources.trustBundle()) },
      { path: FLEET_TARGETS.signingRoots, body: JSON.stringify(sources.signingRoots()) },
      { path: FLEET_TARGETS.desiredStateKeys, body: JSON.stringify(sources.desiredStateKeys()) },
    ];
    for (const v of await listVendors(sources.store)) documents.push({ path: vendorPolicyTarget(v.name), body: JSON.stringify(v.trustPolicy) });
    return documents;
  };
}
