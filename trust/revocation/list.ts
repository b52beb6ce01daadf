import { createHash } from 'node:crypto';
import { BerthError, errorCode, errorMessage } from '../../common/errors.js';
import { validatePath } from '../path/validate.js';
import { signedBy } from '../path/signature.js';
import { fingerprintOf, x509 } from '../x509.js';
import { crlNumberOf, normalizeSerial, unknownCriticalExtension } from './crl.js';
import { parseRevocationDocument } from './document.js';

/** What one issuing CA says it has revoked, after its signature and chain were checked. */
export interface IssuerRevocations {
  issuer: x509.X509Certificate;
  issuerFingerprint: string;
  number: number;
  thisUpdate: Date;
  nextUpdate: Date;
  serials: ReadonlySet<string>;
  /** SHA-256 of the CRL's DER: two CRLs with one number must be the same CRL. */
  crlDigest: string;
}

export interface RevocationListOptions {
  /** The fleet's trust anchors (the SPIFFE bundle's CA certificates). */
  roots: readonly x509.X509Certificate[];
  now?: Date;
  /** How far past `nextUpdate` a list is still used (seconds, default 30: clock drift only). */
  clockToleranceSeconds?: number;
}

function refuse(code: string, message: string): never {
  throw new BerthError(code, `revocation list refused: ${message}`);
}

/**
 * A revocation list a relying party can hold: every CRL in it verified against the fleet's
 * roots when loaded, then asked per token. An expired list is refused (at load and at use): a
 * stale list cannot say whether a device was revoked since, so it never answers "not revoked".
 */
export class RevocationList {
  private constructor(
    readonly issuers: readonly IssuerRevocations[],
    private readonly toleranceMs: number,
  ) {}

  static async load(document: string, options: RevocationListOptions): Promise<RevocationList> {
    const now = options.now ?? new Date();
    const toleranceMs = (options.clockToleranceSeconds ?? 30) * 1000;
    const { certificates, crls } = parseRevocationDocument(document);
    const issuers: IssuerRevocations[] = [];
    for (const crl of crls) {
      const issuer = await verifiedSigner(crl, certificates, options.roots, now);
      const number = crlNumberOf(crl);
      if (number === undefined) refuse('revocations.malformed', `the CRL from "${crl.issuer}" has no CRL number`);
      if (!crl.nextUpdate) refuse('revocations.malformed', `the CRL from "${crl.issuer}" has no nextUpdate`);
      const critical = unknownCriticalExtension(crl);
      if (critical) refuse('revocations.malformed', `the CRL from "${crl.issuer}" has an unknown critical extension ${critical}`);
      if (now.getTime() > crl.nextUpdate.getTime() + toleranceMs)
        refuse('revocations.expired', `the CRL from "${crl.issuer}" expired at ${crl.nextUpdate.toISOString()}; fetch a current one`);
      const issuerFingerprint = fingerprintOf(issuer);
      if (issuers.some((i) => i.issuerFingerprint === issuerFingerprint)) refuse('revocations.malformed', `two CRLs from "${crl.issuer}"`);
      issuers.push({
        issuer,
        issuerFingerprint,
        number,
        thisUpdate: crl.thisUpdate,
        nextUpdate: crl.nextUpdate,
        serials: new Set(crl.entries.map((e) => normalizeSerial(e.serialNumber))),
        crlDigest: createHash('sha256').update(new Uint8Array(crl.rawData)).digest('hex'),
      });
    }
    return new RevocationList(issuers, toleranceMs);
  }

  /** The highest CRL number in the list. */
  get number(): number {
    return Math.max(...this.issuers.map((i) => i.number));
  }

  /** When the first CRL in it expires. */
  get nextUpdate(): Date {
    return new Date(Math.min(...this.issuers.map((i) => i.nextUpdate.getTime())));
  }

  /** Refuses a list that would take a relying party back in time (a replayed older list). */
  assertNotOlderThan(previous: RevocationList): void {
    for (const mine of this.issuers) {
      const theirs = previous.issuers.find((i) => i.issuerFingerprint === mine.issuerFingerprint);
      if (!theirs) continue;
      if (mine.number < theirs.number)
        refuse('revocations.rollback', `CRL number ${mine.number} from "${mine.issuer.subject}" is older than the ${theirs.number} already held`);
      if (mine.number === theirs.number && mine.crlDigest !== theirs.crlDigest)
        refuse('revocations.rollback', `a different CRL with the same number ${mine.number} from "${mine.issuer.subject}"`);
    }
  }

  /**
   * Throws `token.revoked` when the certificate is listed, `revocations.issuer_not_covered` when
   * no CRL in the list is from the CA that signed it (a retired CA, or a list older than a CA
   * rotation), `revocations.expired` when that CRL has expired since it was loaded.
   */
  check(certificate: x509.X509Certificate, deviceId: string, now: Date): void {
    let covering: IssuerRevocations | undefined;
    for (const candidate of this.issuers) {
      if (candidate.issuer.subject === certificate.issuer && signedBy(certificate, candidate.issuer)) {
        covering = candidate;
        break;
      }
    }
    if (!covering) refuse('revocations.issuer_not_covered', `it has no CRL from "${certificate.issuer}", the CA that issued device ${deviceId}'s certificate`);
    if (now.getTime() > covering.nextUpdate.getTime() + this.toleranceMs)
      refuse('revocations.expired', `the CRL from "${certificate.issuer}" expired at ${covering.nextUpdate.toISOString()}; fetch a current one`);
    const serial = normalizeSerial(certificate.serialNumber);
    if (covering.serials.has(serial)) {
      throw new BerthError('token.revoked', `device ${deviceId} is revoked: its certificate ${serial} is on CRL number ${covering.number}`);
    }
  }
}

/** The CA certificate in the document that signed `crl`, validated to the roots for signing CRLs. */
async function verifiedSigner(
  crl: x509.X509Crl,
  certificates: readonly x509.X509Certificate[],
  roots: readonly x509.X509Certificate[],
  now: Date,
): Promise<x509.X509Certificate> {
  let signer: x509.X509Certificate | undefined;
  for (const candidate of [...certificates, ...roots]) {
    if (candidate.subject !== crl.issuer) continue;
    if (await crl.verify({ publicKey: candidate }).catch(() => false)) {
      signer = candidate;
      break;
    }
  }
  if (!signer) refuse('revocations.untrusted', `the CRL from "${crl.issuer}" is not signed by a CA certificate in the list or the trust bundle`);
  try {
    validatePath({ leaf: signer, intermediates: certificates, anchors: roots, purpose: 'crl-signing', at: now });
  } catch (err) {
    throw new BerthError(
      'revocations.untrusted',
      `revocation list refused: the CRL signer "${signer.subject}" is not trusted by the bundle to sign CRLs (${errorMessage(err)})`,
      { reason: errorCode(err, 'chain.untrusted') },
    );
  }
  return signer;
}
