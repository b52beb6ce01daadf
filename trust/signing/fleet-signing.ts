import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { BerthError } from '../../common/errors.js';
import { readTextFile, writePrivateFile } from '../key-files.js';
import { generateSigningCa, loadSigningCa, type SigningCa } from './fleet-ca.js';
import { fingerprintOfPem } from './roots-fingerprint.js';
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
/** Roots rotated out (certificates only: they issue nothing any more), newest first. */
const HISTORY_FILE = 'signing-history.json';
/** `signingCas` and `timestampAuthorities` are at most 8 each (what devices accept): current + 7. */
const MAX_ROOTS = 8;

const historySchema = z.strictObject({
  signingCas: z.array(z.string().max(16_384)).max(MAX_ROOTS),
  timestampAuthorities: z.array(z.array(z.string().max(16_384)).min(1).max(4)).max(MAX_ROOTS),
});
type History = z.infer<typeof historySchema>;

export function loadOrCreateFleetSigning(dir: string): Promise<FleetSigning> {
  return load(dir, true) as Promise<FleetSigning>;
}

/**
 * The fleet signing services as they are on disk, or undefined when there are none: what a replica
 * checking for a rotation made by another reads (it must never make a CA of its own).
 */
export function loadFleetSigning(dir: string): Promise<FleetSigning | undefined> {
  return load(dir, false);
}

async function load(dir: string, create: boolean): Promise<FleetSigning | undefined> {
  const [caCert, caKey, tsaChain, tsaKey] = await Promise.all(Object.values(FILES).map((f) => readTextFile(join(dir, f))));
  if (!create && caCert === undefined && caKey === undefined && tsaChain === undefined && tsaKey === undefined) return undefined;
  let ca: SigningCa;
  if (caCert !== undefined && caKey !== undefined) {
    checkPair(caCert, caKey, 'signing.ca', `${FILES.caCert} and ${FILES.caKey}`);
    ca = await loadSigningCa(caCert, caKey);
  } else if (caCert === undefined && caKey === undefined && create) {
    ca = await writeNewCa(dir);
  } else {
    throw new BerthError('signing.ca', `${dir} holds only half of the fleet signing CA (${FILES.caCert} and ${FILES.caKey} go together)`);
  }
  let tsa: TimestampAuthority;
  if (tsaChain !== undefined && tsaKey !== undefined) {
    const chain = splitPem(tsaChain);
    if (chain.length !== 2) throw new BerthError('signing.tsa', `${FILES.tsaChain} must hold the TSA certificate and its root`);
    checkPair(chain[0]!, tsaKey, 'signing.tsa', `${FILES.tsaChain} and ${FILES.tsaKey}`);
    tsa = loadTimestampAuthority([chain[0]!, chain[1]!], tsaKey);
  } else if (tsaChain === undefined && tsaKey === undefined && create) {
    tsa = await writeNewTsa(dir);
  } else {
    throw new BerthError('signing.tsa', `${dir} holds only half of the timestamp authority (${FILES.tsaChain} and ${FILES.tsaKey} go together)`);
  }
  const history = await readHistory(dir);
  // Current first, then the rotated-out ones still trusted, so what was signed under them verifies.
  const roots: FleetSigningRoots = {
    signingCas: firstThen(ca.certPem, history.signingCas, MAX_ROOTS),
    timestampAuthorities: firstThen([...tsa.certChainPem], history.timestampAuthorities, MAX_ROOTS),
  };
  return { ca, tsa, roots, compiled: compileRoots(roots) };
}

async function writeNewCa(dir: string): Promise<SigningCa> {
  const made = await generateSigningCa();
  // Key first: a certificate without its key on disk would be unusable after a crash.
  await writePrivateFile(join(dir, FILES.caKey), made.privateKeyPem);
  await writePrivateFile(join(dir, FILES.caCert), made.ca.certPem);
  return made.ca;
}

async function writeNewTsa(dir: string): Promise<TimestampAuthority> {
  const made = await generateTimestampAuthority();
  await writePrivateFile(join(dir, FILES.tsaKey), made.privateKeyPem);
  await writePrivateFile(join(dir, FILES.tsaChain), made.authority.certChainPem.join(''));
  return made.authority;
}

async function readHistory(dir: string): Promise<History> {
  const text = await readTextFile(join(dir, HISTORY_FILE));
  if (text === undefined) return { signingCas: [], timestampAuthorities: [] };
  const parsed = historySchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new BerthError('signing.ca', `${join(dir, HISTORY_FILE)} is not a fleet signing history; restore it from the replica it came from`);
  return parsed.data;
}

/**
 * A new fleet signing CA and/or timestamp authority, with overlap: the new one issues (or stamps)
 * from now on, the one it replaces stays in the served roots (at most 8 of each, oldest dropped)
 * so components signed under it still verify. The history is written before the new key and
 * certificate, so a crash in between leaves the old one in use (listed twice, served once), never
 * a root that is not served.
 */
export async function rotateFleetSigning(dir: string, what: { signingCa: boolean; timestampAuthority: boolean }): Promise<FleetSigning> {
  const current = await loadFleetSigning(dir);
  if (!current) throw new BerthError('signing.ca', `${dir} holds no fleet signing CA to rotate`);
  const history = await readHistory(dir);
  // The history holds at most MAX_ROOTS - 1: the new CA or TSA takes the first place served.
  const next: History = {
    signingCas: what.signingCa ? firstThen(current.ca.certPem, history.signingCas, MAX_ROOTS - 1) : history.signingCas,
    timestampAuthorities: what.timestampAuthority
      ? firstThen([...current.tsa.certChainPem], history.timestampAuthorities, MAX_ROOTS - 1)
      : history.timestampAuthorities,
  };
  await writeHistory(dir, next);
  if (what.signingCa) await writeNewCa(dir);
  if (what.timestampAuthority) await writeNewTsa(dir);
  return (await loadFleetSigning(dir))!;
}

/**
 * Ends the overlap for one rotated-out signing CA or TSA, named by the fingerprint of its
 * certificate (a TSA by its leaf): it leaves the served roots, and once devices follow the new
 * roots digest nothing signed or stamped under it verifies any more. The CA or TSA in use cannot
 * be retired (rotate first), and one not in the history is not known.
 */
export async function retireFleetSigningRoot(dir: string, fingerprint: string): Promise<FleetSigning> {
  const current = await loadFleetSigning(dir);
  if (!current) throw new BerthError('signing.ca', `${dir} holds no fleet signing CA`);
  if (fingerprint === fingerprintOfPem(current.ca.certPem) || fingerprint === fingerprintOfPem(current.tsa.certChainPem[0]!)) {
    throw new BerthError('signing.root_in_use', `${fingerprint} is the signing CA or TSA in use; rotate it before retiring it`);
  }
  const history = await readHistory(dir);
  const next: History = {
    signingCas: history.signingCas.filter((pem) => fingerprintOfPem(pem) !== fingerprint),
    timestampAuthorities: history.timestampAuthorities.filter((chain) => fingerprintOfPem(chain[0]!) !== fingerprint),
  };
  if (next.signingCas.length === history.signingCas.length && next.timestampAuthorities.length === history.timestampAuthorities.length) {
    throw new BerthError('signing.unknown_root', `no rotated-out signing CA or TSA has the fingerprint ${fingerprint}`);
  }
  await writeHistory(dir, next);
  return (await loadFleetSigning(dir))!;
}

const writeHistory = (dir: string, history: History): Promise<void> => writePrivateFile(join(dir, HISTORY_FILE), JSON.stringify(history, null, 2) + '\n');

/**
 * `first`, then the others that are not the same certificate (or chain), at most `max`: the
 * order roots are served in, the one in use first.
 */
function firstThen<T extends string | readonly string[]>(first: T, others: readonly T[], max: number): T[] {
  const text = (x: T): string => (typeof x === 'string' ? x : x.join(''));
  return [first, ...others.filter((x) => text(x) !== text(first))].slice(0, max);
}

/**
 * A certificate and key that do not belong together (a rotation interrupted between its two
 * writes, or a half-copied directory) would issue certificates nothing verifies: refuse them.
 */
function checkPair(certPem: string, keyPem: string, code: string, files: string): void {
  let same: boolean;
  try {
    const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    same = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' }).equals(fromKey);
  } catch {
    return; // unreadable: the loaders below say so in their own words
  }
  if (!same)
    throw new BerthError(code, `${files} do not belong together (a rotation interrupted, or a partial copy); restore the pair from a replica or backup`);
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\r?\n?/g) ?? [];
}
