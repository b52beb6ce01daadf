import { createHash, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { bundleToJSON, toDSSEBundle, toMessageSignatureBundle, type Bundle } from '@sigstore/bundle';
import { dsse } from '@sigstore/core';
import { BerthError } from '../../common/errors.js';
import { keyIdOf } from './keys.js';

/**
 * Sigstore bundles (v0.3) signed with a vendor key: a message signature over a component, or
 * a DSSE envelope around an in-toto statement. No transparency log and no timestamp: the
 * vendor key itself is the trust anchor, and the verifier is told so explicitly.
 */
export function signComponent(component: Uint8Array, privateKey: KeyObject): Bundle {
  const data = Buffer.from(component.buffer, component.byteOffset, component.byteLength);
  const signature = cryptoSign('sha256', data, privateKey);
  return toMessageSignatureBundle({
    digest: createHash('sha256').update(data).digest(),
    signature,
    keyHint: keyIdOf(createPublicKey(privateKey)),
  });
}

/**
 * Signs with a short-lived certificate from the fleet signing CA. `timestamp` asks the fleet's
 * RFC 3161 authority to countersign the signature bytes; the timestamp is what lets the bundle
 * verify after the certificate has expired.
 */
export function signComponentWithCertificate(
  component: Uint8Array,
  privateKey: KeyObject,
  certificatePem: string,
  timestamp?: (signature: Buffer) => Buffer,
): Bundle {
  const data = Buffer.from(component.buffer, component.byteOffset, component.byteLength);
  const signature = cryptoSign('sha256', data, privateKey);
  const bundle = toMessageSignatureBundle({
    digest: createHash('sha256').update(data).digest(),
    signature,
    certificate: pemToDer(certificatePem),
    certificateChain: false,
  });
  if (timestamp) bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: timestamp(signature) }] };
  return bundle;
}

export function pemToDer(pem: string): Buffer {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (!body) throw new BerthError('signing.bad-certificate', 'not a PEM certificate');
  return Buffer.from(body.replace(/\s+/g, ''), 'base64');
}

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export function signStatement(statement: unknown, privateKey: KeyObject): Bundle {
  const payload = Buffer.from(JSON.stringify(statement));
  const signature = cryptoSign('sha256', dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload), privateKey);
  return toDSSEBundle({
    artifact: payload,
    artifactType: IN_TOTO_PAYLOAD_TYPE,
    signature,
    keyHint: keyIdOf(createPublicKey(privateKey)),
  });
}

/** The bytes that travel: the bundle's protobuf-JSON form. */
export function serializeBundle(bundle: Bundle): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(bundleToJSON(bundle)));
}
