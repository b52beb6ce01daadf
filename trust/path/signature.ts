import { X509Certificate as NodeCertificate, createPublicKey, type KeyObject } from 'node:crypto';
import type { x509 } from '../x509.js';

// Node's OpenSSL checks signatures synchronously (the Sigstore verifier, which calls the
// validator, is synchronous) and faster than WebCrypto; parsed forms are kept per certificate.
const nodeForms = new WeakMap<x509.X509Certificate, NodeCertificate>();
const keys = new WeakMap<x509.X509Certificate, KeyObject>();

function nodeForm(cert: x509.X509Certificate): NodeCertificate {
  let form = nodeForms.get(cert);
  if (!form) nodeForms.set(cert, (form = new NodeCertificate(Buffer.from(cert.rawData))));
  return form;
}

function keyOf(cert: x509.X509Certificate): KeyObject {
  let key = keys.get(cert);
  if (!key) keys.set(cert, (key = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' })));
  return key;
}

/** Whether `issuer`'s key made `cert`'s signature (names are compared by the caller). */
export function signedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): boolean {
  try {
    return nodeForm(cert).verify(keyOf(issuer));
  } catch {
    return false;
  }
}
