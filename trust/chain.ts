import { BerthError } from '../common/errors.js';
import { x509, fingerprintOf } from './x509.js';

const MAX_DEPTH = 4;

/**
 * Verifies that `leaf` chains to one of `anchors` through `intermediates` (signatures, validity
 * at `now`, CA flags on every signer). Returns the anchor reached. Used for factory (IDevID)
 * certificates, whose anchors are the manufacturer CAs the operator trusts.
 */
export async function verifyChain(
  leaf: x509.X509Certificate,
  intermediates: readonly x509.X509Certificate[],
  anchors: readonly x509.X509Certificate[],
  now = new Date(),
): Promise<x509.X509Certificate> {
  checkValidity(leaf, now);
  let current = leaf;
  const pool = [...intermediates];
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    for (const anchor of anchors) {
      if (anchor.subject === current.issuer && (await signedBy(current, anchor))) {
        if (fingerprintOf(anchor) !== fingerprintOf(current)) checkSigner(anchor, now);
        return anchor;
      }
    }
    const next = await findSigner(current, pool);
    if (!next) break;
    checkSigner(next, now);
    pool.splice(pool.indexOf(next), 1);
    current = next;
  }
  throw new BerthError('chain.untrusted', `certificate '${leaf.subject}' does not chain to a trusted authority`);
}

async function findSigner(cert: x509.X509Certificate, pool: readonly x509.X509Certificate[]): Promise<x509.X509Certificate | undefined> {
  for (const candidate of pool) if (candidate.subject === cert.issuer && (await signedBy(cert, candidate))) return candidate;
  return undefined;
}

async function signedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  try {
    return await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

function checkValidity(cert: x509.X509Certificate, now: Date): void {
  if (now < cert.notBefore) throw new BerthError('chain.not_yet_valid', `certificate '${cert.subject}' is not valid before ${cert.notBefore.toISOString()}`);
  if (now > cert.notAfter) throw new BerthError('chain.expired', `certificate '${cert.subject}' expired at ${cert.notAfter.toISOString()}`);
}

function checkSigner(cert: x509.X509Certificate, now: Date): void {
  checkValidity(cert, now);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) throw new BerthError('chain.not_a_ca', `certificate '${cert.subject}' signed another but is not a CA`);
}
