import { createHash } from 'node:crypto';
import type { Logger } from '../../common/logger.js';
import type { KeyedCertificate } from '../../trust/authority.js';
import { readTextFile } from '../../trust/key-files.js';
import { issueCrl } from '../../trust/revocation/crl.js';
import { formatRevocationDocument, type IssuedCrl } from '../../trust/revocation/document.js';
import { fingerprintOf, importPrivateKeyPem, parseCertificates } from '../../trust/x509.js';
import type { FleetAuthority } from '../pki/fleet-authority.js';
import { listTrustedAuthorities, type AuthorityRecord } from '../store/authorities.js';
import type { Queryable } from '../store/store.js';
import { lockRevocationList, revokedBy, saveRevocationList, type StoredRevocationList } from './list-store.js';

export interface RevocationPublishing {
  authority: FleetAuthority;
  logger: Logger;
  /** How long each CRL is valid (nextUpdate - thisUpdate); re-issued when half of it is gone. */
  lifetimeMs: number;
  now?: Date;
}

export const DEFAULT_REVOCATION_LIST_LIFETIME_MS = 24 * 3_600_000;
/** Entries stay this long past their certificate's expiry, for relying parties with slow clocks. */
const EXPIRED_GRACE_MS = 86_400_000;

export interface Reissued {
  list: StoredRevocationList;
  /** False when the stored list was still good and nothing was signed. */
  reissued: boolean;
  /** Trusted issuing CAs whose key this replica does not have: no CRL from them this time. */
  skipped: string[];
}

/**
 * Re-issues the revocation list in the caller's transaction, under the list's row lock: one
 * CRL per trusted issuing CA (active or retiring), all with the next CRL number. The lock
 * serialises replicas, and the revoked certificates are read after it is taken, so a revocation
 * committed by another replica meanwhile is always on the new list.
 * Without `force`, does nothing while the stored list covers every trusted CA and has more than
 * half its lifetime left.
 */
export async function reissueRevocationList(tx: Queryable, p: RevocationPublishing, force: boolean): Promise<Reissued> {
  const now = p.now ?? new Date();
  const current = await lockRevocationList(tx);
  const trusted = (await listTrustedAuthorities(tx)).filter((a) => a.kind === 'intermediate');
  const signers: KeyedCertificate[] = [];
  const skipped: string[] = [];
  for (const record of trusted) {
    const issuer = await issuerWithKey(p.authority, record);
    if (issuer) signers.push(issuer);
    else skipped.push(record.fingerprint);
  }
  // Good enough when it covers every CA this replica can sign for and no CA that is no longer
  // trusted: a replica missing a key neither re-issues at every check nor drops another
  // replica's CRL for that CA.
  const trustedSet = new Set(trusted.map((a) => a.fingerprint));
  const covers = signers.every((s) => current.issuers.includes(fingerprintOf(s.certificate))) && current.issuers.every((f) => trustedSet.has(f));
  const fresh = current.nextUpdate !== null && current.nextUpdate.getTime() - now.getTime() > p.lifetimeMs / 2;
  if (!force && current.document && fresh && covers) return { list: current, reissued: false, skipped };
  // Without a CA's CRL, relying parties refuse its devices' tokens (issuer not covered): fail closed.
  for (const fingerprint of skipped) {
    p.logger.error(
      { issuer: fingerprint, keyPath: p.authority.keyPath(fingerprint) },
      'no key for a trusted issuing CA: its CRL is left out of the revocation list',
    );
  }
  const number = current.number + 1;
  const thisUpdate = now;
  const nextUpdate = new Date(now.getTime() + p.lifetimeMs);
  const issued: IssuedCrl[] = [];
  for (const issuer of signers) {
    const entries = await revokedBy(tx, fingerprintOf(issuer.certificate), new Date(now.getTime() - EXPIRED_GRACE_MS));
    issued.push({ issuer: issuer.certificate, crl: await issueCrl(issuer, entries, { number, thisUpdate, nextUpdate }) });
  }
  const document = formatRevocationDocument(issued);
  const list: StoredRevocationList = {
    number,
    issuers: issued.map((i) => fingerprintOf(i.issuer)).sort(),
    thisUpdate,
    nextUpdate,
    document,
    etag: `"${createHash('sha256').update(document).digest('hex').slice(0, 32)}"`,
  };
  await saveRevocationList(tx, list);
  return { list, reissued: true, skipped };
}

async function issuerWithKey(authority: FleetAuthority, record: AuthorityRecord): Promise<KeyedCertificate | undefined> {
  const active = authority.issuer();
  if (fingerprintOf(active.certificate) === record.fingerprint) return active;
  try {
    const keyPem = await readTextFile(authority.keyPath(record.fingerprint));
    if (!keyPem) return undefined;
    return { certificate: parseCertificates(record.certificatePem)[0]!, keys: await importPrivateKeyPem(keyPem) };
  } catch {
    return undefined; // unreadable or not a key: treated like a missing one (logged by the caller)
  }
}
