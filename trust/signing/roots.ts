import { createHash } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { BerthError, errorCode, errorMessage } from '../../common/errors.js';
import { validatePath } from '../path/validate.js';
import { x509 } from '../x509.js';
import { pemToDer } from './sign.js';

/**
 * The fleet-wide anchors for certificate-based signing: the private signing CA(s) and the
 * private timestamp authorities. Unlike vendor keys they are not per vendor; which identities a
 * vendor may sign as is the vendor policy's business.
 */
export interface FleetSigningRoots {
  /** Root (and any intermediate) certificates of the fleet signing CA, PEM. */
  signingCas: string[];
  /** One chain per timestamp authority, PEM, its signing certificate first. */
  timestampAuthorities: string[][];
}

type CertAuthority = TrustMaterial['certificateAuthorities'][number];

export interface CompiledRoots {
  certificateAuthorities: CertAuthority[];
  /** The same signing CA certificates, for Berth's path validation (trust/path/validate.ts). */
  signingAnchors: x509.X509Certificate[];
  timestampAuthorities: CertAuthority[];
  fingerprint: string;
}

const ALWAYS = { start: new Date(0), end: new Date(8640000000000000) };

function parse(pem: string, what: string): X509Certificate {
  try {
    return X509Certificate.parse(Buffer.from(pemToDer(pem)));
  } catch {
    throw new BerthError('policy.invalid', `${what} is not a readable PEM certificate`);
  }
}

export function compileRoots(input: FleetSigningRoots): CompiledRoots {
  const hash = createHash('sha256');
  const certificateAuthorities = input.signingCas.map((pem, i) => {
    hash.update(`ca:${pem}`);
    // Each CA certificate stands alone as an anchor; the chain verifier checks its validity dates.
    return { certChain: [parse(pem, `signing CA certificate ${i + 1}`)], validFor: ALWAYS };
  });
  const signingAnchors = input.signingCas.map((pem) => new x509.X509Certificate(pem));
  const timestampAuthorities = input.timestampAuthorities.map((chain, i) => {
    if (chain.length === 0) throw new BerthError('policy.invalid', `timestamp authority ${i + 1} has no certificates`);
    hash.update(`tsa:${chain.join('')}`);
    checkTimestampChain(chain, i);
    return { certChain: chain.map((pem, j) => parse(pem, `timestamp authority ${i + 1} certificate ${j + 1}`)), validFor: ALWAYS };
  });
  return { certificateAuthorities, signingAnchors, timestampAuthorities, fingerprint: hash.digest('hex') };
}

/**
 * The digest of the fleet signing roots as `GET /api/v1/signing/roots` serves them: sha256 over
 * one canonical JSON serialisation (member order fixed, no whitespace), so the control plane
 * (which signs it into every desired-state statement) and a device (which checks a fetched roots
 * document against that claim) compute it alike from whatever bytes came over the wire. The
 * order of the lists is part of it: the control plane serves them in one order (current first).
 */
export function signingRootsDigest(roots: FleetSigningRoots): `sha256:${string}` {
  const canonical = JSON.stringify({ signingCas: [...roots.signingCas], timestampAuthorities: roots.timestampAuthorities.map((chain) => [...chain]) });
  return `sha256:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}

export const NO_ROOTS: CompiledRoots = { certificateAuthorities: [], signingAnchors: [], timestampAuthorities: [], fingerprint: 'none' };

/**
 * A TSA chain (its signing certificate first, its root last) must be fit for timestamping: the
 * leaf's timeStamping extended key usage critical and sole, each CA allowed to sign certificates.
 * Validity is checked per timestamp, at its signing time, by the Sigstore verifier.
 */
function checkTimestampChain(chain: readonly string[], i: number): void {
  try {
    const certs = chain.map((pem) => new x509.X509Certificate(pem));
    validatePath({ leaf: certs[0]!, intermediates: certs.slice(1, -1), anchors: [certs[certs.length - 1]!], purpose: 'timestamping', at: null });
  } catch (err) {
    throw new BerthError('policy.invalid', `timestamp authority ${i + 1} is not fit for timestamping: ${errorMessage(err)}`, {
      reason: errorCode(err, 'chain.malformed'),
    });
  }
}
