import type { Bundle } from '@sigstore/bundle';
import { BerthError, errorCode, errorMessage } from '../../common/errors.js';
import { validatePath } from '../path/validate.js';
import { x509 } from '../x509.js';

/**
 * The signing certificate of a verified bundle, validated for code signing to the fleet signing
 * CA(s) at the time the timestamp proves the signature was made. @sigstore/verify has checked
 * the signature and the chain's CA flags and dates; this adds what it does not check (the leaf's
 * key usage and extended key usage, keyCertSign and name constraints on the CAs, a bounded path),
 * so a TLS, device or timestamping certificate from the same CA cannot sign components.
 */
export function checkSigningCertificatePath(
  material: Bundle['verificationMaterial']['content'],
  anchors: readonly x509.X509Certificate[],
  signedAt: Date,
): void {
  if (material.$case === 'publicKey') return;
  const raw = material.$case === 'certificate' ? [material.certificate.rawBytes] : material.x509CertificateChain.certificates.map((c) => c.rawBytes);
  try {
    const [leaf, ...intermediates] = raw.map((der) => new x509.X509Certificate(Uint8Array.from(der)));
    validatePath({ leaf: leaf!, intermediates, anchors, purpose: 'code-signing', at: signedAt });
  } catch (err) {
    throw new BerthError('signing.certificate', `signing certificate refused: ${errorMessage(err)}`, { reason: errorCode(err, 'chain.malformed') });
  }
}
