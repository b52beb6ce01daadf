import { join } from 'node:path';
import { BerthError } from '../../common/errors.js';
import { readTextFile, writePrivateFile } from '../key-files.js';
import { generateSigningCa, loadSigningCa, type SigningCa } from './fleet-ca.js';
import { compileRoots, type CompiledRoots, type FleetSigningRoots } from './roots.js';
import { generateTimestampAuthority, loadTimestampAuthority, type TimestampAuthority } from './timestamp-authority.js';

/**
 * The control plane's signing services for air-gapped fleets: the fleet signing CA (short-lived
 * code-signing certificates for vendors) and the RFC 3161 timestamp authority, kept in one
 * directory (owner-only files) and made once. Their certificates are the fleet signing roots
 * that admission and devices verify certificate-signed bundles against.
 */
export interface FleetSigning {
  ca: SigningCa;
  tsa: TimestampAuthority;
  /** PEM, as a verifier configures them. */
  roots: FleetSigningRoots;
  compiled: CompiledRoots;
}

const FILES = { caCert: 'signing-ca.pem', caKey: 'signing-ca.key', tsaChain: 'tsa-chain.pem', tsaKey: 'tsa.key' };

export async function loadOrCreateFleetSigning(dir: string): Promise<FleetSigning> {
  const [caCert, caKey, tsaChain, tsaKey] = await Promise.all(Object.values(FILES).map((f) => readTextFile(join(dir, f))));
  let ca: SigningCa;
  if (caCert !== undefined && caKey !== undefined) {
    ca = await loadSigningCa(caCert, caKey);
  } else if (caCert === undefined && caKey === undefined) {
    const made = await generateSigningCa();
    // Key first: a certificate without its key on disk would be unusable after a crash.
    await writePrivateFile(join(dir, FILES.caKey), made.privateKeyPem);
    await writePrivateFile(join(dir, FILES.caCert), made.ca.certPem);
    ca = made.ca;
  } else {
    throw new BerthError('signing.ca', `${dir} holds only half of the fleet signing CA (${FILES.caCert} and ${FILES.caKey} go together)`);
  }
  let tsa: TimestampAuthority;
  if (tsaChain !== undefined && tsaKey !== undefined) {
    const chain = splitPem(tsaChain);
    if (chain.length !== 2) throw new BerthError('signing.tsa', `${FILES.tsaChain} must hold the TSA certificate and its root`);
    tsa = loadTimestampAuthority([chain[0]!, chain[1]!], tsaKey);
  } else if (tsaChain === undefined && tsaKey === undefined) {
    const made = await generateTimestampAuthority();
    await writePrivateFile(join(dir, FILES.tsaKey), made.privateKeyPem);
    await writePrivateFile(join(dir, FILES.tsaChain), made.authority.certChainPem.join(''));
    tsa = made.authority;
  } else {
    throw new BerthError('signing.tsa', `${dir} holds only half of the timestamp authority (${FILES.tsaChain} and ${FILES.tsaKey} go together)`);
  }
  const roots: FleetSigningRoots = { signingCas: [ca.certPem], timestampAuthorities: [[...tsa.certChainPem]] };
  return { ca, tsa, roots, compiled: compileRoots(roots) };
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\r?\n?/g) ?? [];
}
