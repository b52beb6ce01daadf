import { createHash } from 'node:crypto';
import type { Digest } from '../../common/digest.js';
import { BerthError, errorMessage } from '../../common/errors.js';
import type { CompiledPolicy } from './policy.js';
import { checkProvenanceStatement, type Provenance } from './provenance.js';
import { checkSbomStatement, CYCLONEDX_BOM_PREDICATE, type VerifiedSbom } from './sbom-attestation.js';
import { readStatement } from './statement.js';
import { NO_ROOTS, type CompiledRoots } from './roots.js';
import { IN_TOTO_PAYLOAD_TYPE } from './sign.js';
import { parseBundle, verifyBundle, type SignerIdentity } from './verify-bundle.js';
import { truncateText } from '../../common/text.js';
import { IN_TOTO_LINK_V03 } from '../in-toto/link.js';

export { parseBundle, type SignerIdentity } from './verify-bundle.js';

/** A bundle as it travels next to a component (see oci/artifact.ts AttachedBundle). */
export interface BundleBytes {
  kind: 'message-signature' | 'dsse-envelope';
  bytes: Uint8Array;
}

export interface VerifiedComponent {
  vendor: string;
  componentDigest: Digest;
  signer: SignerIdentity;
  provenance?: Provenance;
  /** The vendor-signed SBOM's shipped packages, when one is attached. */
  sbom?: VerifiedSbom;
  /** Attestations that did not verify under the policy and were therefore not used. */
  ignoredAttestations: number;
}

/** One signature bundle over the component: the claimed digest and the signature both checked. */
export function verifySignatureBundle(
  policy: CompiledPolicy,
  component: Buffer,
  bytes: Uint8Array,
  componentSha256?: Buffer,
  roots: CompiledRoots = NO_ROOTS,
): SignerIdentity {
  const bundle = parseBundle(bytes, 'signature bundle');
  if (bundle.content.$case !== 'messageSignature') throw new BerthError('signing.bad-bundle', 'signature bundle does not hold a message signature');
  // The verifier checks the signature over the artifact, not the digest the bundle claims: check both.
  const claimed = Buffer.from(bundle.content.messageSignature.messageDigest.digest);
  if (!claimed.equals(componentSha256 ?? createHash('sha256').update(component).digest())) {
    throw new BerthError('signing.digest-mismatch', `signature bundle is for sha256:${claimed.toString('hex').slice(0, 64)}, not this component`);
  }
  return verifyBundle(policy, roots, bundle, component);
}

/** One DSSE attestation bundle; returns its in-toto payload. */
export function verifyAttestationBundle(policy: CompiledPolicy, bytes: Uint8Array, roots: CompiledRoots = NO_ROOTS): Buffer {
  const bundle = parseBundle(bytes, 'attestation bundle');
  if (bundle.content.$case !== 'dsseEnvelope') throw new BerthError('signing.bad-bundle', 'attestation bundle does not hold a DSSE envelope');
  if (bundle.content.dsseEnvelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new BerthError(
      'signing.bad-bundle',
      `attestation payload type is '${truncateText(bundle.content.dsseEnvelope.payloadType, 100)}', expected ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  }
  verifyBundle(policy, roots, bundle);
  return Buffer.from(bundle.content.dsseEnvelope.payload);
}

/**
 * The whole check a component must pass: a signature the vendor's policy accepts over these
 * exact bytes, every vendor-signed attestation about this digest (a signed statement about
 * another digest is refused), and the policy's provenance requirements.
 */
export function verifyComponent(
  policy: CompiledPolicy,
  componentBytes: Uint8Array,
  bundles: readonly BundleBytes[],
  roots: CompiledRoots = NO_ROOTS,
): VerifiedComponent {
  const component = Buffer.from(componentBytes.buffer, componentBytes.byteOffset, componentBytes.byteLength);
  const sha256 = createHash('sha256').update(component).digest();
  const componentDigest: Digest = `sha256:${sha256.toString('hex')}`;
  const signatures = bundles.filter((b) => b.kind === 'message-signature');
  if (signatures.length === 0) throw new BerthError('signing.unsigned', `component ${componentDigest} carries no signature`);

  let signer: SignerIdentity | undefined;
  let firstFailure: unknown;
  for (const s of signatures) {
    try {
      signer = verifySignatureBundle(policy, component, s.bytes, sha256, roots);
      break;
    } catch (err) {
      firstFailure ??= err;
    }
  }
  if (signer === undefined) {
    if (firstFailure instanceof BerthError) {
      throw new BerthError(firstFailure.code, `component ${componentDigest} is not signed by vendor '${policy.vendor}': ${firstFailure.message}`);
    }
    throw firstFailure;
  }

  let provenance: Provenance | undefined;
  let sbom: VerifiedSbom | undefined;
  let ignored = 0;
  let provenanceFailure: BerthError | undefined;
  for (const a of bundles.filter((b) => b.kind === 'dsse-envelope')) {
    let payload: Buffer;
    try {
      payload = verifyAttestationBundle(policy, a.bytes, roots);
    } catch (err) {
      // An SBOM that does not verify refuses the version: it says the vendor meant to declare
      // what ships, and the declaration is forged or broken. Other attestations are skipped.
      if (claimedPredicateType(a.bytes) === CYCLONEDX_BOM_PREDICATE) {
        throw new BerthError('sbom.signature', `the SBOM attached to ${componentDigest} is not signed by vendor '${policy.vendor}': ${errorMessage(err)}`);
      }
      ignored++; // anyone with push rights can attach; only the vendor's own count
      continue;
    }
    try {
      const statement = readStatement(payload, 'provenance');
      // Links are evidence for the vendor's in-toto layout, judged at admission (trust/in-toto/verify.ts).
      if (statement.predicateType === IN_TOTO_LINK_V03) continue;
      // A vendor-signed SBOM that is about another component, or malformed, refuses the version.
      if (statement.predicateType === CYCLONEDX_BOM_PREDICATE) sbom ??= checkSbomStatement(statement, componentDigest);
      else provenance ??= checkProvenanceStatement(statement, componentDigest, policy);
    } catch (err) {
      if (err instanceof BerthError && (err.code === 'provenance.subject-mismatch' || err.code.startsWith('sbom.'))) throw err;
      if (err instanceof BerthError) provenanceFailure ??= err;
      else throw err;
    }
  }
  if (policy.requireProvenance && !provenance) {
    if (provenanceFailure) throw provenanceFailure;
    throw new BerthError(
      'provenance.missing',
      `vendor '${policy.vendor}' requires a provenance attestation and component ${componentDigest} has none signed by the vendor`,
    );
  }
  if (policy.requireSbom && !sbom) {
    throw new BerthError('sbom.missing', `vendor '${policy.vendor}' requires an SBOM and component ${componentDigest} has none signed by the vendor`);
  }
  const result: VerifiedComponent = { vendor: policy.vendor, componentDigest, signer, ignoredAttestations: ignored };
  if (provenance) result.provenance = provenance;
  if (sbom) result.sbom = sbom;
  return result;
}

/** The predicate type an attestation bundle claims, read without trusting it: only to decide how to treat it. */
export function claimedPredicateType(bytes: Uint8Array): string | undefined {
  try {
    const bundle = parseBundle(bytes, 'attestation bundle');
    if (bundle.content.$case !== 'dsseEnvelope') return undefined;
    const statement = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8')) as { predicateType?: unknown };
    return typeof statement.predicateType === 'string' ? statement.predicateType : undefined;
  } catch {
    return undefined;
  }
}

/** For messages: who signed, in one phrase. */
export function describeSigner(signer: SignerIdentity): string {
  return signer.kind === 'key' ? `key ${signer.keyId}` : `${signer.subject} (issuer ${signer.issuer}, timestamped ${signer.signedAt.toISOString()})`;
}
