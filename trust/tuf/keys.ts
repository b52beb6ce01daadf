import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { canonicalize } from '../../common/canonical-json.js';
import { Key, Signature } from '@tufjs/models';
import { BerthError } from '../../common/errors.js';

/**
 * A TUF signing key: Ed25519, as the TUF specification's reference implementations use by
 * default. Its key id is the SHA-256 of the canonical JSON of its public part (the
 * specification's rule), so two parties that hold the same public key name it the same way.
 */
export interface TufSigningKey {
  key: Key;
  /** Signs metadata bytes (canonical JSON of `signed`): what `Metadata.sign` takes. */
  sign(data: Buffer): Signature;
  /** PKCS#8 PEM of the private key, to be written where its holder keeps it. */
  privatePem(): string;
}

/** The public half as TUF metadata spells it, with the key id computed from it. */
export function tufPublicKey(publicKey: KeyObject): Key {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new TypeError(`a TUF key here is Ed25519, not ${publicKey.asymmetricKeyType}`);
  // The raw 32-byte key is the end of its SPKI encoding.
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  const body = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
  // Strings only: JCS and TUF's canonical JSON (OLPC) agree on it byte for byte.
  const keyID = createHash('sha256').update(canonicalize(body)!).digest('hex');
  return new Key({ keyID, keyType: body.keytype, scheme: body.scheme, keyVal: body.keyval });
}

export function tufSigningKey(privateKey: KeyObject): TufSigningKey {
  const key = tufPublicKey(createPublicKey(privateKey));
  return {
    key,
    sign: (data) => new Signature({ keyID: key.keyID, sig: sign(null, data, privateKey).toString('hex') }),
    privatePem: () => privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export function newTufSigningKey(): TufSigningKey {
  return tufSigningKey(generateKeyPairSync('ed25519').privateKey);
}

/** A key from its PKCS#8 PEM; anything else (another algorithm, a public key, garbage) throws naming what it is. */
export function tufSigningKeyFromPem(pem: string, where: string): TufSigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new BerthError('tuf.bad_key', `${where} is not a private key PEM: ${(err as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new BerthError('tuf.bad_key', `${where} is a ${privateKey.asymmetricKeyType} key; TUF keys here are Ed25519`);
  return tufSigningKey(privateKey);
}
