import { BUNDLE_V03_MEDIA_TYPE, bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { Verifier, toSignedEntity, type TrustMaterial } from '@sigstore/verify';
import { BerthError, errorMessage } from '../../common/errors.js';
import { checkSigningCertificatePath } from './certificate-path.js';
import type { CompiledPolicy } from './policy.js';
import type { CompiledRoots } from './roots.js';
import { truncateText } from '../../common/text.js';

/** Who signed a bundle, once verified. */
export type SignerIdentity = { kind: 'key'; keyId: string } | { kind: 'certificate'; subject: string; issuer: string; signedAt: Date };

/**
 * Thresholds are set explicitly rather than left to library defaults (which expect the public
 * Sigstore instance with its transparency and CT logs). Vendor-key bundles: the key is the
 * anchor, no log and no timestamp. Certificate bundles: certificates live minutes, so at least
 * one RFC 3161 timestamp from a fleet TSA must show the signature was made while the
 * certificate was valid. No transparency log in either case (air-gapped fleets have none).
 */
const KEY_THRESHOLDS = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 } as const;
const CERTIFICATE_THRESHOLDS = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 } as const;

function trustMaterial(policy: CompiledPolicy, roots: CompiledRoots): TrustMaterial {
  return {
    certificateAuthorities: roots.certificateAuthorities,
    timestampAuthorities: roots.timestampAuthorities,
    tlogs: [],
    ctlogs: [],
    publicKey: (hint) => {
      const key = policy.keys.get(hint);
      if (!key) {
        throw new BerthError(
          'signing.untrusted-key',
          `signed by key ${truncateText(hint, 64) || '(no key id)'}, which is not among vendor '${policy.vendor}''s keys`,
        );
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
    throw new BerthError('signing.bad-bundle', `${what} is not a valid Sigstore bundle: ${truncateText(errorMessage(err), 200)}`);
  }
  if (bundle.mediaType !== BUNDLE_V03_MEDIA_TYPE) {
    throw new BerthError('signing.bad-bundle', `${what} has media type '${truncateText(String(bundle.mediaType), 100)}', expected ${BUNDLE_V03_MEDIA_TYPE}`);
  }
  return bundle;
}

const LIBRARY_CODES: Record<string, string> = {
  SIGNATURE_ERROR: 'signing.bad-signature',
  TIMESTAMP_ERROR: 'signing.timestamp',
  CERTIFICATE_ERROR: 'signing.certificate',
  PUBLIC_KEY_ERROR: 'signing.untrusted-key',
};

/** Runs @sigstore/verify on one bundle and then the policy's identity rules. */
export function verifyBundle(policy: CompiledPolicy, roots: CompiledRoots, bundle: Bundle, artifact?: Buffer): SignerIdentity {
  const material = bundle.verificationMaterial.content;
  const byCertificate = material.$case !== 'publicKey';
  if (byCertificate && policy.identities.length === 0) {
    throw new BerthError('signing.untrusted-signer', `signed with a certificate, but vendor '${policy.vendor}' trusts only its public keys`);
  }
  if (!byCertificate && policy.keys.size === 0) {
    throw new BerthError('signing.untrusted-signer', `signed with a key, but vendor '${policy.vendor}' trusts only certificate identities`);
  }
  let signer;
  let entity;
  try {
    entity = toSignedEntity(bundle, artifact);
    signer = new Verifier(trustMaterial(policy, roots), byCertificate ? CERTIFICATE_THRESHOLDS : KEY_THRESHOLDS).verify(entity);
  } catch (err) {
    if (err instanceof BerthError) throw err;
    const libraryCode = String((err as { code?: unknown }).code ?? '');
    const cause = (err as { cause?: unknown }).cause;
    const detail = errorMessage(err) + (cause instanceof Error ? ` (${cause.message})` : '');
    throw new BerthError(
      LIBRARY_CODES[libraryCode] ?? 'signing.verify-failed',
      `signature does not verify for vendor '${policy.vendor}': ${truncateText(detail, 300)}`,
    );
  }
  if (material.$case === 'publicKey') return { kind: 'key', keyId: material.publicKey.hint };

  const first = entity.timestamps[0];
  const signedAt = first?.$case === 'timestamp-authority' ? first.timestamp.signingTime : new Date(0);
  checkSigningCertificatePath(material, roots.signingAnchors, signedAt);
  const subject = signer.identity?.subjectAlternativeName ?? '';
  const issuer = signer.identity?.extensions?.issuer ?? '';
  if (!policy.identities.some((id) => id.subject.test(subject) && id.issuer.test(issuer))) {
    throw new BerthError(
      'signing.identity-mismatch',
      `signer '${truncateText(subject, 200)}' from issuer '${truncateText(issuer, 200)}' matches none of vendor '${policy.vendor}''s identities (${policy.identities.map((i) => i.text).join('; ')})`,
    );
  }
  return { kind: 'certificate', subject, issuer, signedAt };
}
