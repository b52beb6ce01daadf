import { createHash } from 'node:crypto';
import { BUNDLE_V03_MEDIA_TYPE, bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { Verifier, toSignedEntity, type TrustMaterial } from '@sigstore/verify';
import type { Digest } from '../../common/digest.js';
import { BerthError, errorMessage } from '../../common/errors.js';
import type { CompiledPolicy } from './policy.js';
import { checkProvenance, type Provenance } from './provenance.js';
import { IN_TOTO_PAYLOAD_TYPE } from './sign.js';

/** A bundle as it travels next to a component (see oci/artifact.ts AttachedBundle). */
export interface BundleBytes {
  kind: 'message-signature' | 'dsse-envelope';
  bytes: Uint8Array;
}

export interface VerifiedComponent {
  vendor: string;
  componentDigest: Digest;
  /** Which of the vendor's keys signed (key id). */
  keyId: string;
  provenance?: Provenance;
  /** Attestations that did not verify under the policy and were therefore not used. */
  ignoredAttestations: number;
}

/**
 * Key-based bundles carry no transparency-log entry and no timestamp: the vendor's key is the
 * anchor. So every threshold is set to zero explicitly rather than left to library defaults
 * (which expect the public-good Sigstore instance). See docs/signing.md.
 */
const KEY_THRESHOLDS = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 } as const;

function trustMaterial(policy: CompiledPolicy): TrustMaterial {
  return {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: (hint) => {
      const key = policy.keys.get(hint);
      if (!key) {
        throw new BerthError('signing.untrusted-key', `signed by key ${hint.slice(0, 64) || '(no key id)'}, which is not among vendor '${policy.vendor}''s keys`);
      }
      return { publicKey: key, validFor: () => true };
    },
  };
}

export function parseBundle(bytes: Uint8Array, what: string): Bundle {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(JSON.parse(Buffer.from(bytes).toString('utf8')));
  } catch (err) {
    throw new BerthError('signing.bad-bundle', `${what} is not a valid Sigstore bundle: ${errorMessage(err).slice(0, 200)}`);
  }
  if (bundle.mediaType !== BUNDLE_V03_MEDIA_TYPE) {
    throw new BerthError('signing.bad-bundle', `${what} has media type '${String(bundle.mediaType).slice(0, 100)}', expected ${BUNDLE_V03_MEDIA_TYPE}`);
  }
  return bundle;
}

/** Verifies one signature bundle over the component; returns the key id that signed. */
export function verifySignatureBundle(policy: CompiledPolicy, component: Buffer, bytes: Uint8Array, componentSha256?: Buffer): string {
  const bundle = parseBundle(bytes, 'signature bundle');
  if (bundle.content.$case !== 'messageSignature') throw new BerthError('signing.bad-bundle', 'signature bundle does not hold a message signature');
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'publicKey') {
    throw new BerthError('signing.unsupported', `signature bundle uses ${material.$case}; only vendor-key bundles are verified in this version`);
  }
  // The verifier checks the signature over the artifact, not the digest the bundle claims: check both.
  const claimed = Buffer.from(bundle.content.messageSignature.messageDigest.digest);
  if (!claimed.equals(componentSha256 ?? createHash('sha256').update(component).digest())) {
    throw new BerthError('signing.digest-mismatch', `signature bundle is for sha256:${claimed.toString('hex').slice(0, 64)}, not this component`);
  }
  runVerifier(policy, bundle, component);
  return material.publicKey.hint;
}

function runVerifier(policy: CompiledPolicy, bundle: Bundle, artifact?: Buffer): void {
  try {
    new Verifier(trustMaterial(policy), KEY_THRESHOLDS).verify(toSignedEntity(bundle, artifact));
  } catch (err) {
    if (err instanceof BerthError) throw err;
    const code = (err as { code?: string }).code === 'SIGNATURE_ERROR' ? 'signing.bad-signature' : 'signing.verify-failed';
    throw new BerthError(code, `signature does not verify with vendor '${policy.vendor}''s key: ${errorMessage(err).slice(0, 200)}`);
  }
}

/** Verifies a DSSE attestation bundle and returns its payload. */
export function verifyAttestationBundle(policy: CompiledPolicy, bytes: Uint8Array): Buffer {
  const bundle = parseBundle(bytes, 'attestation bundle');
  if (bundle.content.$case !== 'dsseEnvelope') throw new BerthError('signing.bad-bundle', 'attestation bundle does not hold a DSSE envelope');
  if (bundle.content.dsseEnvelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new BerthError('signing.bad-bundle', `attestation payload type is '${bundle.content.dsseEnvelope.payloadType.slice(0, 100)}', expected ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  runVerifier(policy, bundle);
  return Buffer.from(bundle.content.dsseEnvelope.payload);
}

/**
 * The whole check a component must pass: a signature by one of the vendor's keys over these
 * exact bytes, every vendor-signed attestation about this digest (a signed statement about
 * another digest is refused), and the policy's provenance requirements.
 */
export function verifyComponent(policy: CompiledPolicy, componentBytes: Uint8Array, bundles: readonly BundleBytes[]): VerifiedComponent {
  const component = Buffer.from(componentBytes.buffer, componentBytes.byteOffset, componentBytes.byteLength);
  const sha256 = createHash('sha256').update(component).digest();
  const componentDigest: Digest = `sha256:${sha256.toString('hex')}`;
  const signatures = bundles.filter((b) => b.kind === 'message-signature');
  if (signatures.length === 0) throw new BerthError('signing.unsigned', `component ${componentDigest} carries no signature`);

  let keyId: string | undefined;
  let firstFailure: unknown;
  for (const s of signatures) {
    try {
      keyId = verifySignatureBundle(policy, component, s.bytes, sha256);
      break;
    } catch (err) {
      firstFailure ??= err;
    }
  }
  if (keyId === undefined) {
    if (firstFailure instanceof BerthError) {
      throw new BerthError(firstFailure.code, `component ${componentDigest} is not signed by vendor '${policy.vendor}': ${firstFailure.message}`);
    }
    throw firstFailure;
  }

  let provenance: Provenance | undefined;
  let ignored = 0;
  let provenanceFailure: BerthError | undefined;
  for (const a of bundles.filter((b) => b.kind === 'dsse-envelope')) {
    let payload: Buffer;
    try {
      payload = verifyAttestationBundle(policy, a.bytes);
    } catch {
      ignored++; // anyone with push rights can attach; only the vendor's own count
      continue;
    }
    try {
      provenance ??= checkProvenance(payload, componentDigest, policy);
    } catch (err) {
      if (err instanceof BerthError && err.code === 'provenance.subject-mismatch') throw err;
      if (err instanceof BerthError) provenanceFailure ??= err;
      else throw err;
    }
  }
  if (policy.requireProvenance && !provenance) {
    if (provenanceFailure) throw provenanceFailure;
    throw new BerthError('provenance.missing', `vendor '${policy.vendor}' requires a provenance attestation and component ${componentDigest} has none signed by the vendor`);
  }
  const result: VerifiedComponent = { vendor: policy.vendor, componentDigest, keyId, ignoredAttestations: ignored };
  if (provenance) result.provenance = provenance;
  return result;
}
