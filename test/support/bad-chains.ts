import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import { createIntermediateCa, createRootCa, issueDeviceCertificate, type KeyedCertificate } from '../../trust/authority.js';
import { ECDSA_SHA256, generateP256, randomSerial, x509 } from '../../trust/x509.js';

/**
 * Certificate chains that a purpose-aware path validator must refuse, built with @peculiar/x509
 * under one fleet root, each next to the reason code (trust/path/validate.ts) it must be refused
 * with. Shared by the tests of every place Berth accepts a certificate.
 */
export interface CertSpec {
  subject: string;
  ca?: boolean;
  pathLength?: number;
  keyUsage?: number;
  eku?: string[];
  ekuCritical?: boolean;
  sans?: x509.JsonGeneralName[];
  permittedUriHosts?: string[];
}

const HOUR = 3_600_000;

/** A certificate for `spec` signed by `issuer` ('self': self-signed). */
export async function makeCert(issuer: KeyedCertificate | 'self', spec: CertSpec): Promise<KeyedCertificate> {
  const keys = await generateP256();
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(spec.ca ?? false, spec.pathLength, true)];
  if (spec.keyUsage !== undefined) extensions.push(new x509.KeyUsagesExtension(spec.keyUsage, true));
  if (spec.eku) extensions.push(new x509.ExtendedKeyUsageExtension(spec.eku, spec.ekuCritical ?? false));
  if (spec.sans) extensions.push(new x509.SubjectAlternativeNameExtension(spec.sans, false));
  if (spec.permittedUriHosts) {
    const subtrees = new GeneralSubtrees(
      spec.permittedUriHosts.map((host) => new GeneralSubtree({ base: new GeneralName({ uniformResourceIdentifier: host }) })),
    );
    extensions.push(new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(new NameConstraints({ permittedSubtrees: subtrees }))));
  }
  const common = {
    serialNumber: randomSerial(),
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + 24 * HOUR),
    signingAlgorithm: ECDSA_SHA256,
    extensions,
  };
  const certificate =
    issuer === 'self'
      ? await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: spec.subject, keys })
      : await x509.X509CertificateGenerator.create({
          ...common,
          subject: spec.subject,
          issuer: issuer.certificate.subjectName,
          publicKey: keys.publicKey,
          signingKey: issuer.keys.privateKey,
        });
  return { certificate, keys };
}

const F = x509.KeyUsageFlags;
export const CA_USAGE = F.keyCertSign | F.cRLSign;

/** A fleet as Berth issues it (root pathLen 1, issuing CA pathLen 0) plus the wrong CAs next to it. */
export interface BadFleet {
  trustDomain: string;
  root: KeyedCertificate;
  issuing: KeyedCertificate;
  /** A good device certificate from the issuing CA (its key signs what a device signs). */
  device: KeyedCertificate;
  /** A CA below the issuing CA, which allows none (pathLen 0). */
  subCa: KeyedCertificate;
  /** A CA under the root whose names are limited to `spiffe://other.test`. */
  constrained: KeyedCertificate;
  /** A CA certificate (cA=true) whose key usage does not allow signing certificates. */
  noCertSign: KeyedCertificate;
}

export async function badFleet(trustDomain: string): Promise<BadFleet> {
  const root = await createRootCa(trustDomain);
  const issuing = await createIntermediateCa(root, trustDomain);
  const keys = await generateP256();
  const device = { certificate: await issueDeviceCertificate(issuing, trustDomain, 'victim-dev', keys.publicKey, { lifetimeMs: 24 * HOUR }), keys };
  const subCa = await makeCert(issuing, { subject: 'CN=sub CA', ca: true, keyUsage: CA_USAGE });
  const constrained = await makeCert(root, { subject: 'CN=constrained CA', ca: true, pathLength: 0, keyUsage: CA_USAGE, permittedUriHosts: ['other.test'] });
  const noCertSign = await makeCert(root, { subject: 'CN=CRL-only CA', ca: true, pathLength: 0, keyUsage: F.cRLSign | F.digitalSignature });
  return { trustDomain, root, issuing, device, subCa, constrained, noCertSign };
}

/** One wrong chain: the end certificate with its key, what it was sent with, the reason it must be refused. */
export interface BadChain {
  name: string;
  leaf: KeyedCertificate;
  /** The untrusted certificates sent with the leaf (leaf excluded), nearest first. */
  intermediates: x509.X509Certificate[];
  reason: string;
}

/**
 * The five wrong chains for an end certificate of `eku` naming `san`: a device certificate used as
 * a CA, a certificate of another purpose, a chain past pathLen, a name outside a constraint, a CA
 * without keyCertSign. `wrongEku` is the "other purpose" (e.g. codeSigning where clientAuth is due).
 */
export async function badChains(fleet: BadFleet, eku: string, wrongEku: string, san: x509.JsonGeneralName): Promise<BadChain[]> {
  const leafSpec = { subject: 'CN=leaf', keyUsage: F.digitalSignature, eku: [eku], sans: [san] };
  return [
    {
      name: 'a device certificate used as a CA',
      leaf: await makeCert(fleet.device, leafSpec),
      intermediates: [fleet.device.certificate, fleet.issuing.certificate],
      reason: 'chain.not_a_ca',
    },
    {
      name: 'a certificate of another purpose',
      leaf: await makeCert(fleet.issuing, { ...leafSpec, eku: [wrongEku] }),
      intermediates: [fleet.issuing.certificate],
      reason: 'chain.wrong_purpose',
    },
    {
      name: 'a chain longer than pathLen allows',
      leaf: await makeCert(fleet.subCa, leafSpec),
      intermediates: [fleet.subCa.certificate, fleet.issuing.certificate],
      reason: 'chain.path_length',
    },
    {
      name: "a name outside the CA's name constraints",
      leaf: await makeCert(fleet.constrained, leafSpec),
      intermediates: [fleet.constrained.certificate],
      reason: 'chain.name_constraints',
    },
    {
      name: 'a CA without keyCertSign',
      leaf: await makeCert(fleet.noCertSign, leafSpec),
      intermediates: [fleet.noCertSign.certificate],
      reason: 'chain.key_usage',
    },
  ];
}
