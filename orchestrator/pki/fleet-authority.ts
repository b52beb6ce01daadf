import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { BerthError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { securityEvent } from '../../common/logger.js';
import { createIntermediateCa, createRootCa, type KeyedCertificate } from '../../trust/authority.js';
import { buildSpiffeBundle, type SpiffeBundle } from '../../trust/bundle.js';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';
import { assertTrustDomain } from '../../trust/spiffe.js';
import { certificateToPem, fingerprintOf, importPrivateKeyPem, parseCertificates, privateKeyToPem, x509 } from '../../trust/x509.js';
import * as authorities from '../store/authorities.js';
import type { AuthorityRecord } from '../store/authorities.js';
import type { Store } from '../store/store.js';

/**
 * The fleet CA as the control plane sees it: certificates and the bundle sequence in the store
 * (shared by replicas), private keys as files in `keyDir` named by certificate fingerprint.
 * The control plane needs only the active intermediate's key; the root's key is needed only to
 * create or rotate intermediates and can be kept offline (pass it to `rotate`).
 */
export interface FleetAuthorityOptions {
  store: Store;
  keyDir: string;
  trustDomain: string;
  logger: Logger;
  /** How often clients should refetch the bundle (seconds). */
  refreshHintSeconds?: number;
}

export interface RotateOptions {
  /** Also replace the root (both roots stay in the bundle until the old one is retired). */
  newRoot?: boolean;
  /** PEM of the root key when it is kept offline (not in keyDir). */
  rootKeyPem?: string;
}

export class FleetAuthority {
  private trusted: AuthorityRecord[] = [];
  private issuing: KeyedCertificate | undefined;
  private sequence = 0;
  private listeners: (() => void | Promise<void>)[] = [];

  private constructor(private readonly options: FleetAuthorityOptions & { refreshHintSeconds: number }) {}

  get trustDomain(): string {
    return this.options.trustDomain;
  }

  /** Opens the fleet CA, creating root and intermediate on the first start. */
  static async open(options: FleetAuthorityOptions): Promise<FleetAuthority> {
    const configured = assertTrustDomain(options.trustDomain);
    const fa = new FleetAuthority({ refreshHintSeconds: 300, ...options });
    const stored = await authorities.getSetting<string>(options.store, 'trust_domain');
    if (stored !== undefined && stored !== configured) {
      throw new BerthError('pki.trust_domain_mismatch', `the store belongs to trust domain '${stored}', not '${configured}'`);
    }
    if ((await authorities.listTrustedAuthorities(options.store)).length === 0) await fa.initialise();
    await fa.reload();
    return fa;
  }

  private async initialise(): Promise<void> {
    const { store, keyDir, trustDomain, logger } = this.options;
    const root = await createRootCa(trustDomain);
    const intermediate = await createIntermediateCa(root, trustDomain);
    // Keys first: a crash between the two leaves unused key files, never certificates without keys.
    await writePrivateFile(this.keyPath(root), await privateKeyToPem(root.keys.privateKey));
    await writePrivateFile(this.keyPath(intermediate), await privateKeyToPem(intermediate.keys.privateKey));
    await store.transaction(async (tx) => {
      await tx.query('LOCK TABLE authorities IN EXCLUSIVE MODE');
      if ((await authorities.listTrustedAuthorities(tx)).length > 0) return; // another replica won
      await authorities.putSetting(tx, 'trust_domain', trustDomain);
      await this.insert(tx, root, 'root', null);
      await this.insert(tx, intermediate, 'intermediate', fingerprintOf(root.certificate));
      await authorities.bumpBundleSequence(tx);
    });
    securityEvent(logger, 'ca.created', {
      root: fingerprintOf(root.certificate),
      intermediate: fingerprintOf(intermediate.certificate),
      rootKey: this.keyPath(root),
    });
  }

  private insert(tx: Parameters<typeof authorities.insertAuthority>[0], kc: KeyedCertificate, kind: 'root' | 'intermediate', issuer: string | null) {
    return authorities.insertAuthority(tx, {
      fingerprint: fingerprintOf(kc.certificate),
      kind,
      certificatePem: certificateToPem(kc.certificate),
      issuerFingerprint: issuer,
      state: 'active',
      notAfter: kc.certificate.notAfter,
    });
  }

  keyPath(kc: KeyedCertificate | string): string {
    return join(this.options.keyDir, `${typeof kc === 'string' ? kc : fingerprintOf(kc.certificate)}.key`);
  }

  /**
   * Re-reads authorities and sequence from the store (after a rotation, here or on another
   * replica). Reloads run one after another: a rotation's own reload and the periodic refresh
   * would otherwise switch state and tell the listeners twice at once.
   */
  reload(): Promise<void> {
    const next = this.reloading.catch(() => {}).then(() => this.reloadNow());
    this.reloading = next;
    return next;
  }

  private reloading: Promise<void> = Promise.resolve();

  private async reloadNow(): Promise<void> {
    const { store } = this.options;
    // Read everything first and switch over only when the issuing key is at hand, so a failed
    // reload (key not yet distributed) leaves the previous state whole and is retried.
    const trusted = await authorities.listTrustedAuthorities(store);
    const sequence = Number((await authorities.getSetting<number>(store, 'bundle_sequence')) ?? 0);
    const active = [...trusted].reverse().find((a) => a.kind === 'intermediate' && a.state === 'active');
    if (!active) throw new BerthError('pki.no_issuing_ca', 'the store has no active issuing intermediate');
    let issuing = this.issuing;
    if (fingerprintOf(issuing?.certificate.rawData ?? new Uint8Array()) !== active.fingerprint) {
      const keyPem = await readTextFile(this.keyPath(active.fingerprint));
      if (!keyPem) throw new BerthError('pki.missing_key', `the issuing CA's key is not at ${this.keyPath(active.fingerprint)}`);
      const [certificate] = parseCertificates(active.certificatePem);
      issuing = { certificate: certificate!, keys: await importPrivateKeyPem(keyPem) };
    }
    this.trusted = trusted;
    this.sequence = sequence;
    this.issuing = issuing;
    // The new state is in force; a listener that fails (a file it writes) is logged, and must not
    // turn a committed rotation into an error answer.
    for (const l of this.listeners) {
      try {
        await l();
      } catch (err) {
        this.options.logger.error({ err: errorMessage(err) }, 'a fleet CA change listener failed');
      }
    }
  }

  /**
   * Reloads when another replica has rotated or retired a CA (the bundle sequence in the store
   * moved). Cheap enough to call every few seconds.
   */
  async refreshIfChanged(): Promise<boolean> {
    const stored = Number((await authorities.getSetting<number>(this.options.store, 'bundle_sequence')) ?? 0);
    if (stored === this.sequence) return false;
    await this.reload();
    return true;
  }

  /** Called after every reload, e.g. to update the TLS server's trusted CAs. */
  onChange(listener: () => void | Promise<void>): void {
    this.listeners.push(listener);
  }

  /** The intermediate that signs device certificates now. */
  issuer(): KeyedCertificate {
    if (!this.issuing) throw new BerthError('pki.no_issuing_ca', 'fleet authority not loaded');
    return this.issuing;
  }

  /**
   * The intermediate that signs the server's TLS certificate: the oldest still trusted, so devices
   * that have not yet fetched a rotated bundle still recognise the server during the overlap.
   */
  async serverIssuer(): Promise<KeyedCertificate> {
    const oldest = this.trusted.find((a) => a.kind === 'intermediate');
    if (!oldest || oldest.fingerprint === fingerprintOf(this.issuer().certificate)) return this.issuer();
    const keyPem = await readTextFile(this.keyPath(oldest.fingerprint));
    if (!keyPem) return this.issuer();
    return { certificate: parseCertificates(oldest.certificatePem)[0]!, keys: await importPrivateKeyPem(keyPem) };
  }

  /** The chain a server or device presents above its leaf: the intermediate that signed it. */
  chainFor(issuerFingerprint: string): string[] {
    const found = this.trusted.find((a) => a.fingerprint === issuerFingerprint);
    return found ? [found.certificatePem] : [];
  }

  /** Every CA certificate (PEM) a TLS peer may chain to: roots and intermediates not retired. */
  trustAnchorsPem(): string[] {
    return this.trusted.map((a) => a.certificatePem);
  }

  roots(): x509.X509Certificate[] {
    return this.trusted.filter((a) => a.kind === 'root').map((a) => parseCertificates(a.certificatePem)[0]!);
  }

  isTrustedIssuer(fingerprint: string): boolean {
    return this.trusted.some((a) => a.fingerprint === fingerprint);
  }

  bundle(): Promise<SpiffeBundle> {
    return buildSpiffeBundle(this.roots(), this.sequence, this.options.refreshHintSeconds);
  }

  get bundleSequence(): number {
    return this.sequence;
  }

  /**
   * Creates a new issuing intermediate (and with `newRoot`, a new root above it). The previous
   * authorities become `retiring`: still trusted, still in the bundle, no longer issuing.
   */
  async rotate(options: RotateOptions = {}): Promise<{ root: string; intermediate: string; sequence: number }> {
    const { store, trustDomain, logger } = this.options;
    const currentRoot = [...this.trusted].reverse().find((a) => a.kind === 'root' && a.state === 'active');
    if (!currentRoot) throw new BerthError('pki.no_root', 'no active root in the store');
    let root: KeyedCertificate;
    let rootIsNew = false;
    if (options.newRoot) {
      root = await createRootCa(trustDomain);
      rootIsNew = true;
      await writePrivateFile(this.keyPath(root), await privateKeyToPem(root.keys.privateKey));
    } else {
      const keyPem = options.rootKeyPem ?? (await readTextFile(this.keyPath(currentRoot.fingerprint)));
      if (!keyPem) throw new BerthError('pki.root_key_offline', `the root key is not at ${this.keyPath(currentRoot.fingerprint)}; pass it to rotate`);
      root = { certificate: parseCertificates(currentRoot.certificatePem)[0]!, keys: await importPrivateKeyPem(keyPem) };
      const given = Buffer.from(await webcrypto.subtle.exportKey('spki', root.keys.publicKey));
      if (!given.equals(Buffer.from(root.certificate.publicKey.rawData))) {
        throw new BerthError('pki.wrong_root_key', 'the given root key does not belong to the active root');
      }
    }
    const intermediate = await createIntermediateCa(root, trustDomain);
    await writePrivateFile(this.keyPath(intermediate), await privateKeyToPem(intermediate.keys.privateKey));
    const sequence = await store.transaction(async (tx) => {
      await tx.query('LOCK TABLE authorities IN EXCLUSIVE MODE');
      await tx.query(`UPDATE authorities SET state = 'retiring' WHERE state = 'active' AND (kind = 'intermediate' OR $1)`, [rootIsNew]);
      if (rootIsNew) await this.insert(tx, root, 'root', null);
      await this.insert(tx, intermediate, 'intermediate', fingerprintOf(root.certificate));
      return authorities.bumpBundleSequence(tx);
    });
    await this.reload();
    const result = { root: fingerprintOf(root.certificate), intermediate: fingerprintOf(intermediate.certificate), sequence };
    securityEvent(logger, 'ca.rotated', { ...result, newRoot: rootIsNew });
    return result;
  }

  /** Ends the overlap: a retiring authority (and the intermediates under a retired root) stops being trusted. */
  async retire(fingerprint: string): Promise<number> {
    const { store, logger } = this.options;
    const target = this.trusted.find((a) => a.fingerprint === fingerprint);
    if (!target) throw new BerthError('pki.unknown_authority', `no trusted authority with fingerprint ${fingerprint}`);
    if (target.state !== 'retiring') throw new BerthError('pki.not_retiring', `authority ${fingerprint} is ${target.state}; rotate before retiring it`);
    const sequence = await store.transaction(async (tx) => {
      await tx.query(`UPDATE authorities SET state = 'retired' WHERE fingerprint = $1 OR issuer_fingerprint = $1`, [fingerprint]);
      return authorities.bumpBundleSequence(tx);
    });
    await this.reload();
    securityEvent(logger, 'ca.retired', { fingerprint, sequence });
    return sequence;
  }
}
