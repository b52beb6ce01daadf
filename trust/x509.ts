// @peculiar/x509 uses decorators that need reflect-metadata loaded before it.
import 'reflect-metadata';
import { webcrypto, createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { BerthError } from '../common/errors.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** WebCrypto types from Node (the project compiles without the DOM library). */
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

export { x509 };

/** The one algorithm every party supports (Margo): ECDSA P-256 with SHA-256. */
export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

export function generateP256(extractable = true): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_P256, extractable, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

/** Imports a PKCS#8 P-256 private key and derives its public half (for CSRs and checks). */
export async function importPrivateKeyPem(pem: string): Promise<CryptoKeyPair> {
  let privateKey: CryptoKey;
  try {
    const der = x509.PemConverter.decode(pem)[0];
    if (!der) throw new Error('no PEM block');
    privateKey = await webcrypto.subtle.importKey('pkcs8', der, EC_P256, true, ['sign']);
  } catch (err) {
    throw new BerthError('key.bad_private_key', 'the private key is not a PKCS#8 PEM ECDSA P-256 key', undefined, { cause: err });
  }
  const jwk = await webcrypto.subtle.exportKey('jwk', privateKey);
  delete jwk.d;
  jwk.key_ops = ['verify'];
  const publicKey = await webcrypto.subtle.importKey('jwk', jwk, EC_P256, true, ['verify']);
  return { privateKey, publicKey } as CryptoKeyPair;
}

/** SHA-256 of the DER bytes, lowercase hex: how Berth names certificates everywhere. */
export function fingerprintOf(cert: x509.X509Certificate | ArrayBuffer | Uint8Array): string {
  const raw = cert instanceof x509.X509Certificate ? cert.rawData : cert;
  return createHash('sha256').update(new Uint8Array(raw)).digest('hex');
}

/** SHA-256 of the SubjectPublicKeyInfo DER, lowercase hex: names a key independent of any certificate. */
export function publicKeySha256(spki: ArrayBuffer): string {
  return createHash('sha256').update(new Uint8Array(spki)).digest('hex');
}

export function certificateToPem(cert: x509.X509Certificate): string {
  return cert.toString('pem') + '\n';
}

export function randomSerial(): string {
  // 16 random bytes with the top bit clear keeps the DER INTEGER positive.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

/** Splits a PEM bundle into certificates; throws on anything that does not parse. */
export function parseCertificates(pem: string): x509.X509Certificate[] {
  return x509.PemConverter.decode(pem).map((der) => new x509.X509Certificate(der));
}
