import { x509, ECDSA_SHA256, generateP256, randomSerial, fingerprintOf, type CryptoKey, type CryptoKeyPair } from './x509.js';
import { controlPlaneSpiffeId, deviceSpiffeId } from './spiffe.js';

/**
 * The fleet's certificate authorities: a root (whose key can live offline) and an issuing
 * intermediate that signs device and server certificates. Every key is ECDSA P-256.
 */
export interface KeyedCertificate {
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
}

const DAY = 86_400_000;
/**
 * Every certificate the fleet CA issues starts this long before it is issued, so a device whose
 * clock is behind (up to this much) still sees the control plane's fresh server certificate, and
 * its own, as valid. Lifetimes stay bounded by notAfter, which is not moved (docs/trust.md,
 * "Clock skew").
 */
export const CERTIFICATE_BACKDATE_MS = 2 * 3_600_000;
const BACKDATE_MS = CERTIFICATE_BACKDATE_MS;

export async function createRootCa(trustDomain: string, lifetimeDays = 3650, now = new Date()): Promise<KeyedCertificate> {
  const keys = await generateP256();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Berth fleet root ${now.toISOString().slice(0, 10)}, O=${trustDomain}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + lifetimeDays * DAY),
    signingAlgorithm: ECDSA_SHA256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys };
}

export async function createIntermediateCa(root: KeyedCertificate, trustDomain: string, lifetimeDays = 1825, now = new Date()): Promise<KeyedCertificate> {
  const keys = await generateP256();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=Berth fleet issuing CA ${now.toISOString().slice(0, 19)}, O=${trustDomain}`,
    issuer: root.certificate.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(Math.min(now.getTime() + lifetimeDays * DAY, root.certificate.notAfter.getTime())),
    signingAlgorithm: ECDSA_SHA256,
    publicKey: keys.publicKey,
    signingKey: root.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.certificate),
    ],
  });
  return { certificate, keys };
}

export interface IssueOptions {
  /** How long the certificate is valid; capped at the issuer's own expiry. */
  lifetimeMs: number;
  now?: Date;
}

/** A device certificate: exactly one URI SAN (the device's SPIFFE ID), clientAuth, digitalSignature. */
export async function issueDeviceCertificate(
  issuer: KeyedCertificate,
  trustDomain: string,
  deviceId: string,
  publicKey: CryptoKey,
  options: IssueOptions,
): Promise<x509.X509Certificate> {
  const now = options.now ?? new Date();
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${deviceId.replace(/[,+="\\<>;#]/g, '_')}`,
    issuer: issuer.certificate.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(Math.min(now.getTime() + options.lifetimeMs, issuer.certificate.notAfter.getTime())),
    signingAlgorithm: ECDSA_SHA256,
    publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: deviceSpiffeId(trustDomain, deviceId) }], true),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate),
    ],
  });
}

/** The control plane's own TLS certificate: serverAuth, its host names and addresses, and its SPIFFE ID. */
export async function issueServerCertificate(
  issuer: KeyedCertificate,
  trustDomain: string,
  hosts: readonly string[],
  options: IssueOptions,
): Promise<KeyedCertificate> {
  const now = options.now ?? new Date();
  const keys = await generateP256();
  const names: x509.JsonGeneralName[] = [{ type: 'url', value: controlPlaneSpiffeId(trustDomain) }];
  for (const h of hosts) names.push(/^[\d.]+$|:/.test(h) ? { type: 'ip', value: h } : { type: 'dns', value: h });
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${hosts[0] ?? 'berth control plane'}`,
    issuer: issuer.certificate.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(Math.min(now.getTime() + options.lifetimeMs, issuer.certificate.notAfter.getTime())),
    signingAlgorithm: ECDSA_SHA256,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate),
    ],
  });
  return { certificate, keys };
}

/** The URI SANs of a certificate (device certificates carry exactly one). */
export function uriSans(cert: x509.X509Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san ? san.names.items.filter((n) => n.type === 'url').map((n) => n.value) : [];
}

export { fingerprintOf };
