import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { BerthError } from '../../common/errors.js';

/**
 * Vendor signing keys: ECDSA P-256, PEM (PKCS#8 private, SPKI public). A key's id is the hex
 * SHA-256 of its SPKI DER; bundles carry it as the public-key hint so the verifier can pick the
 * right key when a vendor's policy lists several (rotation).
 */
export interface VendorKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
}

export function generateVendorKey(): VendorKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

function checkP256(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new BerthError(
      'signing.bad-key',
      `${what} is not an ECDSA P-256 key (got ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ' ' + key.asymmetricKeyDetails.namedCurve : ''})`,
    );
  }
  return key;
}

export function loadPrivateKey(pem: string, what = 'signing key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new BerthError('signing.bad-key', `${what} is not a readable PEM private key`, undefined, { cause: err });
  }
  return checkP256(key, what);
}

export function loadPublicKey(pem: string, what = 'public key'): KeyObject {
  // Node derives a public key from a private PEM; a policy must never hold the secret half.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new BerthError('signing.bad-key', `${what} is a private key; give the public key`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new BerthError('signing.bad-key', `${what} is not a readable PEM public key`, undefined, { cause: err });
  }
  if (key.type !== 'public') throw new BerthError('signing.bad-key', `${what} is a private key; give the public key`);
  return checkP256(key, what);
}
