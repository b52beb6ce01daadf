import type { Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';
import type { ArtifactSource } from '../../oci/source.js';
import { ArtifactAdmission, vendorPolicy } from '../../orchestrator/catalog/artifact-admission.js';
import * as catalog from '../../orchestrator/store/catalog.js';
import type { Queryable } from '../../orchestrator/store/store.js';
import { generateVendorKey } from '../../trust/signing/keys.js';
import { NO_ROOTS } from '../../trust/signing/roots.js';

/**
 * For tests about scheduling, not admission: vendors with a real (key) trust policy and
 * versions inserted through the store as admission would have stored them, so a deployment's
 * re-check finds an unchanged policy and needs no registry. Admission itself is tested against
 * a real registry in test/supply-chain/.
 */
export const TEST_REGISTRY = 'registry.test';

export function testTrustPolicy(vendor: string, publicKeyPem = generateVendorKey().publicKeyPem): Record<string, unknown> {
  return { vendor, publicKeys: [publicKeyPem], repositories: [`registry\\.test/${vendor}/.+`] };
}

export async function insertTestVendor(q: Queryable, vendor: string): Promise<void> {
  await catalog.insertVendor(q, vendor, testTrustPolicy(vendor));
}

export interface VerifiedVersionInput {
  appId: string;
  version: string;
  digest: Digest;
  sizeBytes?: number;
  imports?: string[];
  /** Defaults to oci://registry.test/<vendor>/<app>. */
  repository?: string;
  /** Fingerprint of the fleet signing roots the control plane verifies with (NO_ROOTS unless given). */
  rootsFingerprint?: string;
}

/** A version row as admission stores it, verified under the vendor's policy as stored now. */
export async function insertVerifiedVersion(q: Queryable, v: VerifiedVersionInput): Promise<void> {
  const app = await catalog.getApp(q, v.appId);
  const vendor = app && (await catalog.getVendor(q, app.vendor));
  if (!app || !vendor) throw new Error(`test setup: app '${v.appId}' and its vendor must exist first`);
  const policy = vendorPolicy(vendor);
  await catalog.insertVersion(q, {
    appId: v.appId,
    version: v.version,
    component: { repository: v.repository ?? `oci://${TEST_REGISTRY}/${vendor.name}/${v.appId}`, digest: v.digest, sizeBytes: v.sizeBytes ?? 1000 },
    imports: v.imports ?? [],
    verification: {
      policyFingerprint: policy.fingerprint,
      rootsFingerprint: v.rootsFingerprint ?? NO_ROOTS.fingerprint,
      componentDigest: v.digest,
      signer: `key ${[...policy.keys.keys()][0] ?? 'none'}`,
      verifiedAt: new Date().toISOString(),
    },
  });
}

/** A source for tests that must not reach any registry: every use is a clear failure. */
export const noRegistry: ArtifactSource = {
  resolve: () => Promise.reject(new BerthError('oci.connection', 'test: no registry is reachable here')),
  fetch: () => Promise.reject(new BerthError('oci.connection', 'test: no registry is reachable here')),
};

/** Admission with no registry: re-checks of rows from insertVerifiedVersion pass, anything else is refused. */
export const offlineAdmission = (): ArtifactAdmission => new ArtifactAdmission({ source: noRegistry });
