import type { Digest } from '../../common/digest.js';
import type { AttachedBundle } from '../../oci/artifact.js';
import type { Progress } from '../../oci/client.js';
import type { Reference } from '../../oci/reference.js';
import type { ArtifactSource } from '../../oci/source.js';
import { VerificationCache } from './cache.js';
import { checkNamespace, type CompiledPolicy } from './policy.js';
import { NO_ROOTS, type CompiledRoots } from './roots.js';
import { verifyComponent, type VerifiedComponent } from './verify.js';

/**
 * Pull by digest and verify, in that order, with nothing returned unless both pass: the one
 * call admission (after resolving the tag once) and the device agent (with the digest from its
 * signed desired state) make. The source may be a registry or the control plane's mirror.
 */
export interface VerifiedArtifact {
  manifestDigest: Digest;
  component: Buffer;
  verified: VerifiedComponent;
  /** The attached bundles as pulled: admission reads in-toto links from them (trust/in-toto/verify.ts). */
  bundles: AttachedBundle[];
}

export interface FetchVerifiedOptions {
  roots?: CompiledRoots;
  cache?: VerificationCache;
  onProgress?: Progress;
}

export async function fetchVerified(
  source: ArtifactSource,
  ref: Reference & { digest: Digest },
  policy: CompiledPolicy,
  options: FetchVerifiedOptions = {},
): Promise<VerifiedArtifact> {
  checkNamespace(policy, ref.registry, ref.repository);
  const artifact = await source.fetch(ref, options.onProgress);
  const roots = options.roots ?? NO_ROOTS;
  const verified = options.cache
    ? options.cache.verify(policy, artifact.component, artifact.bundles, roots)
    : verifyComponent(policy, artifact.component, artifact.bundles, roots);
  return { manifestDigest: artifact.manifestDigest, component: artifact.component, verified, bundles: artifact.bundles };
}
