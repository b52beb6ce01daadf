import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import { BerthError } from '../../common/errors.js';
import type { KeyedCertificate } from '../authority.js';
import { ECDSA_SHA256, x509 } from '../x509.js';

/**
 * X.509 CRLs (RFC 5280) issued by the fleet's issuing CAs: the standard form of "these
 * certificates no longer count", which any X.509 tool (openssl verify -crl_check, Java PKIX)
 * and Berth's own verifier understand.
 */
export interface RevokedEntry {
  /** Certificate serial number, hex. */
  serial: string;
  revokedAt: Date;
}

export interface CrlParams {
  /** The CRL number (RFC 5280 5.2.3): only ever grows, so a relying party can refuse an older list. */
  number: number;
  thisUpdate: Date;
  nextUpdate: Date;
}

/** Hex serial without leading zeros, lowercase: how serials are compared everywhere here. */
export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

export async function issueCrl(issuer: KeyedCertificate, entries: readonly RevokedEntry[], params: CrlParams): Promise<x509.X509Crl> {
  if (!Number.isSafeInteger(params.number) || params.number < 1)
    throw new BerthError('revocations.bad_number', `CRL number ${params.number} is not a positive integer`);
  return x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subjectName,
    thisUpdate: params.thisUpdate,
    nextUpdate: params.nextUpdate,
    signingAlgorithm: ECDSA_SHA256,
    signingKey: issuer.keys.privateKey,
    extensions: [
      new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(params.number))),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
    entries: entries.map((e) => ({ serialNumber: e.serial, revocationDate: e.revokedAt })),
  });
}

/** The CRL number extension's value, or undefined when absent or not a safe integer. */
export function crlNumberOf(crl: x509.X509Crl): number | undefined {
  const ext = crl.getExtension(id_ce_cRLNumber);
  if (!ext) return undefined;
  try {
    const value = AsnConvert.parse(ext.value, CRLNumber).value;
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 5280: a CRL with a critical extension the reader does not know must not be used. */
const KNOWN_CRL_EXTENSIONS = new Set([id_ce_cRLNumber, '2.5.29.35' /* authorityKeyIdentifier */]);

export function unknownCriticalExtension(crl: x509.X509Crl): string | undefined {
  for (const ext of crl.extensions) if (ext.critical && !KNOWN_CRL_EXTENSIONS.has(ext.type)) return ext.type;
  for (const entry of crl.entries) for (const ext of entry.extensions) if (ext.critical) return ext.type;
  return undefined;
}
