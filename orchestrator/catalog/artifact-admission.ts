import type { SbomPackage } from '../../trust/signing/sbom-attestation.js';
import type { Digest } from '../../common/digest.js';
import { BerthError, errorCode, errorMessage } from '../../common/errors.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { formatReference, parseReference, versionToTag, type Reference } from '../../oci/reference.js';
import type { ArtifactSource } from '../../oci/source.js';
import { inspectComponent } from '../../runtime/component/inspect.js';
import { VerificationCache } from '../../trust/signing/cache.js';
import { fetchVerified, type VerifiedArtifact } from '../../trust/signing/fetch-verified.js';
import { verifyLayout } from '../../trust/in-toto/verify.js';
import { checkNamespace, compilePolicy, type CompiledPolicy } from '../../trust/signing/policy.js';
import { NO_ROOTS, type CompiledRoots } from '../../trust/signing/roots.js';
import { describeSigner } from '../../trust/signing/verify.js';
import type { AppVersionRecord, VendorRecord, VersionVerification } from '../store/catalog.js';

/**
 * Admission of artifacts (docs/admission.md): the only way a version gets into the catalog.
 * The control plane resolves the tag once, pulls by digest, verifies against the vendor's
 * stored policy and reads the imports from the verified bytes; nothing the vendor merely says
 * is stored. All of it is network and CPU work done before any transaction.
 */
export interface ArtifactMirror {
  /** Copies an admitted artifact (component and bundles) so devices can pull it from the control plane. */
  copy(ref: Reference & { digest: Digest }): Promise<void>;
  /** Runs an admission, copy to commit, with the mirror's garbage collection held off (mirror/gc.ts). */
  hold?<T>(work: () => Promise<T>): Promise<T>;
}

export interface ArtifactAdmissionOptions {
  /** Where artifacts come from (registries, with per-registry credentials, CA and plain HTTP). */
  source: ArtifactSource;
  /** Fleet signing roots for certificate-signed bundles (the control plane's own CA and TSA). */
  roots?: CompiledRoots;
  cache?: VerificationCache;
  /** Bound on one admission's registry work, resolve to last blob (default 120 s). */
  timeoutMs?: number;
  /** The control plane's mirror; called after a successful verification, before the version is stored. */
  mirror?: ArtifactMirror;
  logger?: Logger;
  /** Told how each admission and re-check ended (the control plane's metrics). */
  observer?: AdmissionObserver;
}

/** `code`: the refusal's stable code (`signing.untrusted-key`, `oci.timeout`, …; docs/admission.md). */
export interface AdmissionObserver {
  /** A new version's artifact: resolved, pulled, verified and mirrored, or refused. */
  admission(outcome: { result: 'admitted' | 'refused'; code?: string; seconds: number }): void;
  /**
   * A stored version checked again for a deployment, rollout or rollback: `unchanged` when the
   * verdict stored at admission stands (same policy and roots, no network), `verified` when it
   * was pulled and verified again, `refused` when that failed.
   */
  recheck(outcome: { result: 'unchanged' | 'verified' | 'refused'; code?: string; seconds: number }): void;
}

export interface AdmittedArtifact {
  component: { repository: string; digest: Digest; sizeBytes: number };
  imports: string[];
  verification: VersionVerification;
  /** The shipped packages of its vendor-signed SBOM, if it has one: what advisories by purl match. */
  packages?: SbomPackage[];
}

/** The vendor's stored policy, checked as admission needs it: its own, and with a namespace. */
export function vendorPolicy(vendor: VendorRecord): CompiledPolicy {
  const policy = compilePolicy(vendor.trustPolicy);
  if (policy.vendor !== vendor.name) throw new BerthError('policy.invalid', `vendor '${vendor.name}''s trust policy names vendor '${policy.vendor}'`);
  if (!policy.repositories)
    throw new BerthError('policy.invalid', `vendor '${vendor.name}''s trust policy has no repositories (its namespace); nothing can be admitted for it`);
  return policy;
}

export class ArtifactAdmission {
  /** Replaced when the fleet signing CA or TSA is rotated (useRoots); verdicts are keyed by its fingerprint. */
  roots: CompiledRoots;
  readonly cache: VerificationCache;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  /** (policy, roots, manifest digest) that passed a full re-check since start: re-checks stay cheap. */
  private readonly rechecked = new Set<string>();

  constructor(private readonly options: ArtifactAdmissionOptions) {
    this.roots = options.roots ?? NO_ROOTS;
    this.cache = options.cache ?? new VerificationCache();
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.logger = options.logger ?? silentLogger;
  }
  /** The fleet signing roots after a rotation (here or on another replica): used from the next check on. */
  useRoots(roots: CompiledRoots): void {
    this.roots = roots;
  }

  /**
   * Runs `work` (an admission and the transaction storing its version) so that no garbage
   * collection of the mirror runs between the copy and the commit.
   */
  holdingMirror<T>(work: () => Promise<T>): Promise<T> {
    const mirror = this.options.mirror;
    return mirror?.hold ? mirror.hold(work) : work();
  }

  /** Parses `oci://registry/repo:VERSION` (or `…@sha256:…`); the tag, if any, must be the version. */
  static reference(artifact: string, version: string): Reference {
    const ref = parseReference(artifact);
    const tag = versionToTag(version);
    if (ref.tag !== undefined && ref.tag !== tag)
      throw new BerthError('oci.bad-reference', `the tag '${ref.tag}' is not the version '${version}' (tag ${tag})`);
    if (ref.tag === undefined && ref.digest === undefined)
      throw new BerthError('oci.bad-reference', `name the version as the tag (oci://…:${tag}) or pin a digest`);
    return ref;
  }

  /** Resolve once, pull by digest, verify, read imports; what the catalog stores for a new version. */
  async admit(vendor: VendorRecord, version: string, artifact: string): Promise<AdmittedArtifact> {
    const started = performance.now();
    try {
      const admitted = await this.verifyNew(vendor, version, artifact);
      this.options.observer?.admission({ result: 'admitted', seconds: (performance.now() - started) / 1000 });
      return admitted;
    } catch (err) {
      this.options.observer?.admission({ result: 'refused', code: errorCode(err, 'unknown'), seconds: (performance.now() - started) / 1000 });
      throw err;
    }
  }

  private async verifyNew(vendor: VendorRecord, version: string, artifact: string): Promise<AdmittedArtifact> {
    const ref = ArtifactAdmission.reference(artifact, version);
    const policy = vendorPolicy(vendor);
    checkNamespace(policy, ref.registry, ref.repository); // before any network
    return this.bounded(`admitting ${artifact}`, async (expired) => {
      const digest = await this.options.source.resolve(ref);
      const pinned = { registry: ref.registry, repository: ref.repository, digest };
      const fetched = await fetchVerified(this.options.source, pinned, policy, { roots: this.roots, cache: this.cache });
      checkSupplyChain(policy, fetched);
      const imports = importsOf(fetched.component);
      if (this.options.mirror) {
        // A refusal already answered (time ran out) must not leave a mirrored copy behind.
        if (expired()) throw new BerthError('oci.timeout', `admitting ${artifact}: too late to mirror`);
        try {
          await this.options.mirror.copy(pinned);
        } catch (err) {
          throw new BerthError('admission.mirror', `the control plane could not mirror ${formatReference(pinned)}: ${errorMessage(err)}`);
        }
      }
      this.rechecked.add(this.key(policy, digest));
      const verified = fetched.verified;
      const verification: VersionVerification = {
        policyFingerprint: policy.fingerprint,
        rootsFingerprint: this.roots.fingerprint,
        componentDigest: verified.componentDigest,
        signer: describeSigner(verified.signer),
        verifiedAt: new Date().toISOString(),
      };
      if (verified.provenance) verification.provenance = verified.provenance;
      if (verified.sbom) verification.sbom = { components: verified.sbom.components, packages: verified.sbom.packages.length };
      this.logger.info({ vendor: vendor.name, artifact, digest, signer: verification.signer }, 'artifact admitted');
      return {
        component: { repository: `oci://${ref.registry}/${ref.repository}`, digest, sizeBytes: fetched.component.byteLength },
        imports,
        verification,
        ...(verified.sbom ? { packages: verified.sbom.packages } : {}),
      };
    });
  }

  /**
   * A stored version against the vendor's *current* policy. Unchanged policy and roots: the
   * verdict stored at admission stands, no network. Otherwise the artifact is pulled again by its
   * digest and verified in full (a removed key refuses its versions). Returns the policy
   * fingerprint checked, so the caller's transaction can make sure it did not change meanwhile.
   */
  async recheck(vendor: VendorRecord, version: AppVersionRecord): Promise<string> {
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    try {
      const { fingerprint, pulled } = await this.checkAgain(vendor, version);
      this.options.observer?.recheck({ result: pulled ? 'verified' : 'unchanged', seconds: seconds() });
      return fingerprint;
    } catch (err) {
      this.options.observer?.recheck({ result: 'refused', code: errorCode(err, 'unknown'), seconds: seconds() });
      throw err;
    }
  }

  /** `pulled`: the artifact was pulled and verified again (policy or roots changed since it was last verified). */
  private async checkAgain(vendor: VendorRecord, version: AppVersionRecord): Promise<{ fingerprint: string; pulled: boolean }> {
    const policy = vendorPolicy(vendor);
    const ref = parseReference(`${version.component.repository}@${version.component.digest}`);
    checkNamespace(policy, ref.registry, ref.repository);
    const v = version.verification;
    if (v && v.policyFingerprint === policy.fingerprint && v.rootsFingerprint === this.roots.fingerprint)
      return { fingerprint: policy.fingerprint, pulled: false };
    const key = this.key(policy, version.component.digest);
    if (this.rechecked.has(key)) return { fingerprint: policy.fingerprint, pulled: false };
    await this.bounded(`re-checking ${version.appId} ${version.version}`, async () => {
      const fetched = await fetchVerified(this.options.source, { ...ref, digest: version.component.digest }, policy, { roots: this.roots, cache: this.cache });
      checkSupplyChain(policy, fetched);
      if (v && fetched.verified.componentDigest !== v.componentDigest) {
        throw new BerthError(
          'oci.digest-mismatch',
          `the component under ${version.component.digest} is now ${fetched.verified.componentDigest}, not the admitted ${v.componentDigest}`,
        );
      }
    });
    if (this.rechecked.size > 65_536) this.rechecked.clear();
    this.rechecked.add(key);
    return { fingerprint: policy.fingerprint, pulled: true };
  }

  private key(policy: CompiledPolicy, digest: Digest): string {
    return `${policy.fingerprint}/${this.roots.fingerprint}/${digest}`;
  }

  /** The transport bounds each exchange; this bounds the whole admission, however many exchanges. */
  private async bounded<T>(what: string, work: (expired: () => boolean) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let over = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        over = true;
        reject(new BerthError('oci.timeout', `${what}: the registry did not finish within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    const running = work(() => over);
    running.catch(() => {}); // a late failure after the timeout is not an unhandled rejection
    try {
      return await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The vendor's in-toto layout, when its policy has one, against the version's attestations.
 * Only the control plane checks it: devices run what it admitted, pinned by digest in their
 * signed desired state, and their clocks may be too wrong to judge a layout's expiry.
 */
function checkSupplyChain(policy: CompiledPolicy, fetched: VerifiedArtifact): void {
  if (policy.layout) verifyLayout(policy.layout, fetched.bundles, fetched.verified.componentDigest, new Date());
}

/** The component's imports; a reader failure of any kind is the component's fault, never a 500. */
function importsOf(component: Uint8Array): string[] {
  try {
    return inspectComponent(component).imports;
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw new BerthError('malformed-component', `not a readable WebAssembly component: ${errorMessage(err)}`);
  }
}
