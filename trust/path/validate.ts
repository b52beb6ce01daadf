import { BerthError } from '../../common/errors.js';
import { fingerprintOf, x509 } from '../x509.js';
import { nameConstraintViolation } from './name-constraints.js';
import { ANY_EXTENDED_KEY_USAGE, PURPOSES, type CertificatePurpose, type PurposeRule } from './purpose.js';
import { signedBy } from './signature.js';

export type { CertificatePurpose } from './purpose.js';

export interface PathValidationInput {
  /** The end certificate: the one whose key is used for `purpose`. */
  leaf: x509.X509Certificate;
  /** Untrusted certificates that may complete the path (what the peer sent). */
  intermediates?: readonly x509.X509Certificate[];
  /** Trust anchors; their own constraints (CA flag, keyCertSign, pathLen, names) are honoured too. */
  anchors: readonly x509.X509Certificate[];
  purpose: CertificatePurpose;
  /**
   * The time every certificate in the path must be valid at. `null` only where the caller checks
   * validity itself at the time of use (a TSA chain, at each timestamp's signing time).
   */
  at: Date | null;
  /** Most certificates in the path, leaf and anchor included (default 4). */
  maxLength?: number;
}

export interface ValidatedPath {
  /** Leaf first, anchor last. */
  path: x509.X509Certificate[];
  anchor: x509.X509Certificate;
}

export const DEFAULT_MAX_PATH_LENGTH = 4;

/** Extensions this validator evaluates (or that carry no constraint): others, when critical, refuse the path. */
const UNDERSTOOD = new Set([
  '2.5.29.15', // keyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.19', // basicConstraints
  '2.5.29.30', // nameConstraints
  '2.5.29.37', // extKeyUsage
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.32', // certificatePolicies (no policy is required, so any is acceptable)
]);

function refuse(code: string, message: string): never {
  throw new BerthError(code, message, { reason: code });
}

/**
 * RFC 5280-shaped certification path validation with a purpose: builds a path from `leaf` to one
 * of `anchors`, then checks every link (signature, validity, issuer is a CA allowed to sign
 * certificates, path length constraints, name constraints, no unknown critical extension) and
 * that the end certificate's key usage and extended key usage allow `purpose`. Every way to fail
 * has its own `chain.*` code. The one validator Berth uses wherever it accepts a certificate.
 */
export function validatePath(input: PathValidationInput): ValidatedPath {
  const rule = PURPOSES[input.purpose];
  const path = buildPath(input);
  for (const cert of path) {
    checkValidity(cert, input.at);
    checkCriticalExtensions(cert);
  }
  for (let i = 1; i < path.length; i++) checkIssuer(path, i, rule);
  checkEnd(path[0]!, rule, input.purpose);
  return { path, anchor: path[path.length - 1]! };
}

function buildPath(input: PathValidationInput): x509.X509Certificate[] {
  const maxLength = input.maxLength ?? DEFAULT_MAX_PATH_LENGTH;
  const anchorPrints = new Set(input.anchors.map((a) => fingerprintOf(a)));
  const path = [input.leaf];
  if (anchorPrints.has(fingerprintOf(input.leaf))) return path;
  const pool = [...(input.intermediates ?? [])];
  for (let current = input.leaf; path.length < maxLength;) {
    const anchor = input.anchors.find((a) => a.subject === current.issuer && signedBy(current, a));
    if (anchor) return [...path, anchor];
    const next = pool.find((c) => c.subject === current.issuer && signedBy(current, c));
    if (!next)
      refuse('chain.untrusted', `certificate '${input.leaf.subject}' does not chain to a trusted authority (no issuer found for '${current.subject}')`);
    pool.splice(pool.indexOf(next), 1);
    path.push(next);
    current = next;
  }
  refuse('chain.too_long', `certificate '${input.leaf.subject}' reaches no trusted authority within ${maxLength} certificates`);
}

function checkValidity(cert: x509.X509Certificate, at: Date | null): void {
  if (at === null) return;
  if (at < cert.notBefore) refuse('chain.not_yet_valid', `certificate '${cert.subject}' is not valid before ${cert.notBefore.toISOString()}`);
  if (at > cert.notAfter) refuse('chain.expired', `certificate '${cert.subject}' expired at ${cert.notAfter.toISOString()}`);
}

function checkCriticalExtensions(cert: x509.X509Certificate): void {
  const unknown = cert.extensions.find((e) => e.critical && !UNDERSTOOD.has(e.type));
  if (unknown) refuse('chain.unknown_critical_extension', `certificate '${cert.subject}' has a critical extension ${unknown.type} that is not understood`);
}

/** path[i] issued path[i-1]: it must be a CA allowed to, for this many below it, these names, this purpose. */
function checkIssuer(path: readonly x509.X509Certificate[], i: number, rule: PurposeRule): void {
  const issuer = path[i]!;
  const basic = issuer.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) refuse('chain.not_a_ca', `certificate '${issuer.subject}' signed '${path[i - 1]!.subject}' but is not a CA`);
  const usage = issuer.getExtension(x509.KeyUsagesExtension);
  if (usage && !(usage.usages & x509.KeyUsageFlags.keyCertSign))
    refuse('chain.key_usage', `CA '${issuer.subject}' signed '${path[i - 1]!.subject}' but its key usage does not allow signing certificates (keyCertSign)`);
  // pathLenConstraint counts the intermediates between this CA and the end certificate.
  const below = path.slice(1, i).filter((c) => c.subject !== c.issuer).length;
  if (basic.pathLength !== undefined && below > basic.pathLength)
    refuse('chain.path_length', `CA '${issuer.subject}' allows ${basic.pathLength} intermediate CA(s) below it, the path has ${below}`);
  const eku = issuer.getExtension(x509.ExtendedKeyUsageExtension);
  if (eku && rule.extendedKeyUsage && !eku.usages.some((u) => u === rule.extendedKeyUsage || u === ANY_EXTENDED_KEY_USAGE)) {
    refuse('chain.wrong_purpose', `CA '${issuer.subject}' is restricted to other purposes than ${rule.extendedKeyUsage}`);
  }
  for (let j = 0; j < i; j++) {
    const violation = nameConstraintViolation(issuer, path[j]!);
    if (violation) refuse('chain.name_constraints', `certificate '${path[j]!.subject}': ${violation}`);
  }
}

function checkEnd(leaf: x509.X509Certificate, rule: PurposeRule, purpose: CertificatePurpose): void {
  const basic = leaf.getExtension(x509.BasicConstraintsExtension);
  if (!rule.endIsCa && basic?.ca) refuse('chain.wrong_purpose', `certificate '${leaf.subject}' is a CA certificate, not a ${purpose} certificate`);
  if (rule.endIsCa && !basic?.ca) refuse('chain.not_a_ca', `certificate '${leaf.subject}' is not a CA, so it cannot be used for ${purpose}`);
  const usage = leaf.getExtension(x509.KeyUsagesExtension);
  if (usage ? !(usage.usages & rule.keyUsageAnyOf) : rule.explicit) {
    refuse('chain.key_usage', `certificate '${leaf.subject}' has no key usage allowing ${purpose}`);
  }
  if (!rule.extendedKeyUsage) return;
  const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku) {
    if (rule.explicit) refuse('chain.wrong_purpose', `certificate '${leaf.subject}' names no extended key usage; ${purpose} needs ${rule.extendedKeyUsage}`);
    return;
  }
  const allowed = eku.usages.some((u) => u === rule.extendedKeyUsage || (!rule.explicit && u === ANY_EXTENDED_KEY_USAGE));
  if (!allowed) refuse('chain.wrong_purpose', `certificate '${leaf.subject}' is for ${eku.usages.join(', ')}, not ${purpose} (${rule.extendedKeyUsage})`);
  if (rule.criticalSoleExtendedKeyUsage && (!eku.critical || eku.usages.length !== 1)) {
    refuse('chain.wrong_purpose', `certificate '${leaf.subject}' must carry ${rule.extendedKeyUsage} as its only extended key usage, marked critical`);
  }
}
