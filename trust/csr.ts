import { BerthError } from '../common/errors.js';
import { x509, publicKeySha256, type CryptoKey } from './x509.js';

/** Largest CSR accepted, in PEM characters: a P-256 CSR with a SAN is well under 1 KiB. */
export const MAX_CSR_PEM = 8192;
const SAN_OID = '2.5.29.17';

export interface VerifiedCsr {
  request: x509.Pkcs10CertificateRequest;
  publicKey: CryptoKey;
  /** SHA-256 of the SubjectPublicKeyInfo (hex): how the store names the device's key. */
  publicKeySha256: string;
  /** URI SANs the device asked for; the issuer decides, these are only checked. */
  uriSans: string[];
  pem: string;
}

/**
 * Parses a PEM PKCS#10 request and checks its self-signature (proof that the sender holds the
 * private key) and that the key is ECDSA P-256. Every failure is a BerthError naming the fault.
 */
export async function verifyCsr(pem: unknown): Promise<VerifiedCsr> {
  if (typeof pem !== 'string' || pem.length === 0) throw new BerthError('csr.missing', 'csr must be a PEM-encoded PKCS#10 request');
  if (pem.length > MAX_CSR_PEM) throw new BerthError('csr.too_large', `csr is ${pem.length} characters; at most ${MAX_CSR_PEM} are accepted`);
  if (!/^-----BEGIN CERTIFICATE REQUEST-----[\s\S]+-----END CERTIFICATE REQUEST-----\s*$/.test(pem.trim())) {
    throw new BerthError('csr.malformed', 'csr is not a PEM block of type CERTIFICATE REQUEST');
  }
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(pem.trim());
  } catch (err) {
    throw new BerthError('csr.malformed', 'csr does not parse as PKCS#10', undefined, { cause: err });
  }
  const alg = request.publicKey.algorithm as { name: string; namedCurve?: string };
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') {
    throw new BerthError('csr.bad_key', `csr key must be ECDSA P-256, not ${alg.name}${alg.namedCurve ? ' ' + alg.namedCurve : ''}`);
  }
  let valid = false;
  try {
    valid = await request.verify();
  } catch {
    valid = false;
  }
  if (!valid) throw new BerthError('csr.bad_signature', 'csr signature does not verify with its own public key (no proof of possession)');
  let publicKey: CryptoKey;
  try {
    publicKey = await request.publicKey.export({ name: 'ECDSA', namedCurve: 'P-256' }, ['verify']);
  } catch (err) {
    throw new BerthError('csr.bad_key', 'csr public key cannot be imported', undefined, { cause: err });
  }
  let uriSans: string[] = [];
  try {
    const raw = request.extensions.find((e) => e.type === SAN_OID);
    const san = raw && new x509.SubjectAlternativeNameExtension(raw.rawData);
    uriSans = san ? san.names.items.filter((n) => n.type === 'url').map((n) => n.value) : [];
  } catch (err) {
    throw new BerthError('csr.malformed', 'csr subjectAltName extension does not parse', undefined, { cause: err });
  }
  return { request, publicKey, publicKeySha256: publicKeySha256(request.publicKey.rawData), uriSans, pem: pem.trim() + '\n' };
}
