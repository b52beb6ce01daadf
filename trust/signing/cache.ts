import { sha256Digest } from '../../common/digest.js';
import type { CompiledPolicy } from './policy.js';
import { NO_ROOTS, type CompiledRoots } from './roots.js';
import { verifyComponent, type BundleBytes, type VerifiedComponent } from './verify.js';

/**
 * Each (policy, roots, component digest, bundles) is verified once. Only successes are kept: a
 * failure may be a registry hiccup that a later pull fixes. The policy fingerprint is part of the
 * key, so a policy change (a key removed, a requirement added) never serves an old verdict; the
 * bundles are too, so another manifest of the same bytes whose own signatures do not pass is
 * refused at admission as every device will refuse it, not waved through on an earlier verdict.
 */
export class VerificationCache {
  private readonly entries = new Map<string, VerifiedComponent>();
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = 4096) {}

  verify(policy: CompiledPolicy, component: Uint8Array, bundles: readonly BundleBytes[], roots: CompiledRoots = NO_ROOTS): VerifiedComponent {
    const key = `${policy.fingerprint}/${roots.fingerprint}/${sha256Digest(component)}/${bundlesFingerprint(bundles)}`;
    const cached = this.entries.get(key);
    if (cached) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, cached); // most recently used last
      return cached;
    }
    this.misses++;
    const result = verifyComponent(policy, component, bundles, roots);
    this.entries.set(key, result);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return result;
  }
}

/** Order-independent: the same bundles listed in another order are the same evidence. */
function bundlesFingerprint(bundles: readonly BundleBytes[]): string {
  return bundles
    .map((b) => `${b.kind}:${sha256Digest(b.bytes)}`)
    .sort()
    .join(',');
}
