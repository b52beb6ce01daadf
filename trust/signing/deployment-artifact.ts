import type { Digest } from '../../common/digest.js';
import { BerthError, errorCode, errorMessage } from '../../common/errors.js';
import type { Progress } from '../../oci/client.js';
import { parseReference, type Reference } from '../../oci/reference.js';
import type { ArtifactSource } from '../../oci/source.js';
import type { VerificationCache } from './cache.js';
import { fetchVerified, type VerifiedArtifact } from './fetch-verified.js';
import { compilePolicy } from './policy.js';
import type { CompiledRoots } from './roots.js';

/**
 * The device-side check (docs/signing.md "On the device"): what the agent calls for each
 * component of a signed deployment document before it hands anything to the runtime. Pulls by
 * digest only, checks every blob's digest, verifies the bundle against the trust policy that
 * the signed desired state carries (never one from the registry), and refuses otherwise.
 *
 * Every refusal is a BerthError whose code is the underlying reason (`oci.digest-mismatch`,
 * `signing.untrusted-key`, `policy.invalid`, …) and whose message starts with the artifact and
 * says why, ready to be reported as the deployment's `failed` error.
 */
export interface DeploymentComponent {
  /** `oci://registry/repo` as rendered in the document (`properties.repository`): no tag, no digest. */
  repository: string;
  /** The OCI manifest digest (`properties['x-berth-extensions'].digest`). */
  digest: Digest;
}

export interface VerifyDeploymentOptions {
  /** Fleet signing roots, needed only for certificate-signed bundles. */
  roots?: CompiledRoots;
  /** The vendor the document names; the policy must be that vendor's. */
  vendor?: string;
  onProgress?: Progress;
}

export async function verifyDeploymentArtifact(
  source: ArtifactSource,
  component: DeploymentComponent,
  trustPolicy: unknown,
  cache?: VerificationCache,
  options: VerifyDeploymentOptions = {},
): Promise<VerifiedArtifact> {
  const what = `${component.repository}@${component.digest}`;
  try {
    let ref: Reference;
    try {
      ref = parseReference(what);
    } catch (err) {
      throw new BerthError('artifact.bad-reference', `the document's repository or digest is not valid: ${errorMessage(err)}`);
    }
    if (ref.tag !== undefined || ref.digest !== component.digest)
      throw new BerthError('artifact.bad-reference', 'the document names a tag; devices pull by digest only');
    const policy = compilePolicy(trustPolicy);
    if (options.vendor !== undefined && policy.vendor !== options.vendor) {
      throw new BerthError('policy.invalid', `the trust policy is vendor '${policy.vendor}''s, but the deployment is vendor '${options.vendor}''s`);
    }
    return await fetchVerified(source, { ...ref, digest: component.digest }, policy, {
      ...(cache ? { cache } : {}),
      ...(options.roots ? { roots: options.roots } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } catch (err) {
    throw new BerthError(
      errorCode(err, 'artifact.refused'),
      `artifact ${what} refused: ${errorMessage(err)}`,
      err instanceof BerthError ? err.details : undefined,
      { cause: err },
    );
  }
}
