import 'reflect-metadata';
import { webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { BerthError } from '../../common/errors.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/**
 * The fleet's private signing CA: an air-gapped alternative to public keyless signing. It issues
 * short-lived code-signing certificates whose SAN is the signer's identity (URI or e-mail) and
 * whose Fulcio issuer extension (OID 1.3.6.1.4.1.57264.1.8) names the identity issuer, so the
 * same Sigstore verification and the same policy fields work as with public Fulcio.
 */
export const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface SigningCa {
  certPem: string;
  /** Issues a leaf for `publicKey` valid from `notBefore` for `validityMs` (default 10 min). */
  issue(request: SigningCertificateRequest): Promise<string>;
}

export interface SigningCertificateRequest {
  publicKey: KeyObject;
  /** `https://…`/`spiffe://…` URI or an e-mail address. */
  subject: string;
  /** The identity issuer recorded in the certificate (what policies match as `issuer`). */
  issuer: string;
  notBefore?: Date;
  validityMs?: number;
}

export async function createSigningCa(name = 'Berth fleet signing CA', validityDays = 3650): Promise<SigningCa> {
  return (await generateSigningCa(name, validityDays)).ca;
}

/** A new CA and its private key (PKCS#8 PEM), for a control plane that keeps it on disk. */
export async function generateSigningCa(name = 'Berth fleet signing CA', validityDays = 3650): Promise<{ ca: SigningCa; privateKeyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    // A day back: a CA made now must still anchor signatures timestamped a little earlier.
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + validityDays * 86_400_000),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const privateKeyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { ca: signingCaOf(caCert, keys.privateKey), privateKeyPem };
}

/** The CA a control plane kept on disk: its certificate and PKCS#8 private key. */
export async function loadSigningCa(certPem: string, privateKeyPem: string): Promise<SigningCa> {
  let caCert: x509.X509Certificate;
  let privateKey: webcrypto.CryptoKey;
  try {
    caCert = new x509.X509Certificate(certPem);
    privateKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(privateKeyPem), { name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
    ]);
  } catch {
    throw new BerthError('signing.ca', 'the fleet signing CA certificate or key on disk cannot be read (P-256 PEM expected)');
  }
  return signingCaOf(caCert, privateKey);
}

function signingCaOf(caCert: x509.X509Certificate, privateKey: webcrypto.CryptoKey): SigningCa {
  return {
    certPem: caCert.toString('pem'),
    async issue(req) {
      const notBefore = req.notBefore ?? new Date();
      const publicKey = await webcrypto.subtle.importKey(
        'spki',
        req.publicKey.export({ type: 'spki', format: 'der' }),
        { name: 'ECDSA', namedCurve: 'P-256' },
        true,
        ['verify'],
      );
      const san =
        req.subject.includes('@') && !req.subject.includes('://')
          ? { type: 'email' as const, value: req.subject }
          : { type: 'url' as const, value: req.subject };
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: '',
        issuer: caCert.subject,
        notBefore,
        notAfter: new Date(notBefore.getTime() + (req.validityMs ?? 10 * 60_000)),
        publicKey,
        signingKey: privateKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
          new x509.SubjectAlternativeNameExtension([san], true),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
          await x509.SubjectKeyIdentifierExtension.create(publicKey),
          new x509.Extension(OID_FULCIO_ISSUER_V2, false, derUtf8(req.issuer)),
        ],
      });
      return leaf.toString('pem');
    },
  };
}

export function derUtf8(text: string): ArrayBuffer {
  const body = Buffer.from(text, 'utf8');
  const len =
    body.length < 128
      ? Buffer.from([body.length])
      : body.length < 256
        ? Buffer.from([0x81, body.length])
        : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  const der = Buffer.concat([Buffer.from([0x0c]), len, body]);
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}
