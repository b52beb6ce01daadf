import { verify, type KeyObject } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { BerthError, errorMessage } from '../../common/errors.js';
import { truncateText } from '../../common/text.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../signing/sign.js';
import { parseBundle } from '../signing/verify-bundle.js';

/** A DSSE envelope whose signature verified under one of the layout's keys. */
export interface OpenedEnvelope {
  keyId: string;
  payload: Buffer;
}

/**
 * Opens an attestation bundle (Sigstore v0.3, DSSE) with the layout's keys: the signer is the
 * key whose ECDSA P-256 signature over the DSSE pre-authentication encoding verifies. Every
 * known key is tried, not only the bundle's hint, since the hint is unsigned. A malformed
 * bundle, or a bad signature by a key the layout knows, is `in_toto.bad_link`; a signature by
 * no key the layout knows is `in_toto.unknown_functionary`.
 */
export function openEnvelope(bytes: Uint8Array, keys: ReadonlyMap<string, KeyObject>, what: string): OpenedEnvelope {
  let bundle;
  try {
    bundle = parseBundle(bytes, what);
  } catch (err) {
    throw new BerthError('in_toto.bad_link', errorMessage(err));
  }
  if (bundle.content.$case !== 'dsseEnvelope') throw new BerthError('in_toto.bad_link', `${what} does not hold a DSSE envelope`);
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    throw new BerthError('in_toto.bad_link', `${what} payload type is '${truncateText(envelope.payloadType, 100)}', expected ${IN_TOTO_PAYLOAD_TYPE}`);
  const payload = Buffer.from(envelope.payload);
  const pae = dsse.preAuthEncoding(envelope.payloadType, payload);
  for (const signature of envelope.signatures) {
    for (const [keyId, key] of keys) {
      if (verifies(pae, key, signature.sig)) return { keyId, payload };
    }
  }
  const material = bundle.verificationMaterial.content;
  const hint = material.$case === 'publicKey' ? material.publicKey.hint : '';
  if (keys.has(hint)) throw new BerthError('in_toto.bad_link', `${what}: the signature of key ${hint} does not verify`);
  const by = material.$case === 'publicKey' ? `key ${truncateText(hint, 64) || '(no key id)'}` : 'a certificate';
  throw new BerthError('in_toto.unknown_functionary', `${what} is signed by ${by}, which is no functionary of the vendor's in-toto layout`);
}

/** A signature that is not even DER is as bad as a wrong one; OpenSSL may throw on it. */
function verifies(data: Buffer, key: KeyObject, signature: Uint8Array): boolean {
  try {
    return verify('sha256', data, key, signature);
  } catch {
    return false;
  }
}
