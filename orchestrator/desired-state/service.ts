import type { JWK } from 'jose';
import type { Logger } from '../../common/logger.js';
import { thumbprintFromHexFingerprint } from '../../trust/desired-state/statement.js';
import type { DesiredStateSigner } from '../../trust/desired-state/sign.js';
import type { DesiredStateKeys } from './signing-key.js';
import * as stored from '../store/desired-state.js';
import type { Queryable, Store } from '../store/store.js';
import type { DesiredStateChanged, PlacementSource } from './placement.js';
import { DocumentCache } from './document-cache.js';
import { ManifestCache } from './manifest-cache.js';
import { notifyPayloads } from './notify.js';
import { renderDevices } from './rerender.js';
import { renderEffectiveGrantsOnce } from './effective-grants-upgrade.js';
import { Waiters } from './waiters.js';

/** The NOTIFY channel: payloads are device ids, newline-separated, a few KiB at most (notify.ts). */
export const DESIRED_STATE_CHANNEL = 'berth_desired_state';

export interface DesiredStateOptions {
  store: Store;
  placements: PlacementSource;
  signer: DesiredStateSigner;
  /** Keys used before `signer`, and their endorsements of their successors (key rotation). */
  history?: { previous: JWK[]; endorsements: string[] };
  logger: Logger;
  /** Issuer named in every statement (the trust domain). */
  issuer: string;
  /** How long a signed statement is valid (default 24 h); re-signed at half that. */
  statementLifetimeMs?: number;
  /**
   * Digest of the fleet signing roots served at `GET /api/v1/signing/roots`, put in every statement
   * so devices follow a rotation of the signing CA or TSA (docs/signing.md). One value per control
   * plane, computed once, not per device.
   */
  signingRootsDigest?: string;
  /** Told of every manifest read for a device (its poll): the scheduler's presence tracking. */
  onPoll?: (deviceId: string) => void;
}

export interface DeviceState {
  manifest: stored.StoredManifest;
  /** The compact JWS that rides beside the manifest. */
  signature: string;
}

/**
 * The device channel's state: renders each device's Margo manifest from its placements, allocates
 * its manifestVersion in the caller's transaction, signs it for the calling certificate, and
 * wakes devices parked on a long-poll when a commit (on any replica) changes their state.
 */
export class DesiredStateService {
  readonly changed: DesiredStateChanged;
  private readonly waiters = new Waiters();
  private readonly cache = new ManifestCache();
  private readonly documents = new DocumentCache();
  private readonly signatures = new Map<string, { key: string; jws: string; refreshAt: number }>();
  private stopListening: (() => Promise<void>) | undefined;
  private readonly lifetimeMs: number;
  private keys: DesiredStateKeys;
  private rootsDigest: string | undefined;

  private constructor(private readonly o: DesiredStateOptions) {
    this.lifetimeMs = o.statementLifetimeMs ?? 86_400_000;
    this.keys = { signer: o.signer, previous: o.history?.previous ?? [], endorsements: o.history?.endorsements ?? [] };
    this.rootsDigest = o.signingRootsDigest;
    this.changed = (tx, deviceIds) => this.rerender(tx, deviceIds);
  }

  static async open(o: DesiredStateOptions): Promise<DesiredStateService> {
    const service = new DesiredStateService(o);
    service.stopListening = await o.store.listen(
      DESIRED_STATE_CHANNEL,
      (payload) => void service.changedElsewhere(payload.split('\n').filter((id) => id !== '')),
      () => {
        // Changes committed while the notification connection was down were never heard: forget
        // every cached manifest and let parked devices ask again.
        o.logger.warn('store notifications were interrupted; forgetting cached manifests and waking long-polls');
        service.cache.clear();
        service.waiters.wakeAll();
      },
    );
    const rerendered = await renderEffectiveGrantsOnce(o.store, service.changed);
    if (rerendered > 0) o.logger.info({ devices: rerendered }, 'desired state re-rendered once so every document carries effective grants');
    return service;
  }

  /**
   * The current key first, then the ones before it, with the endorsements that let a device which
   * pinned an earlier key follow to the current one (devices trust only the endorsements).
   */
  get publicJwks(): { keys: JWK[]; endorsements: string[] } {
    const { signer, previous, endorsements } = this.keys;
    return { keys: [signer.publicJwk, ...previous.filter((k) => k.kid !== signer.keyId).reverse()], endorsements };
  }

  get keyId(): string {
    return this.keys.signer.keyId;
  }

  /** Signs from now on with a rotated key (signing-key.ts); statements already handed out stay valid. */
  useKeys(keys: DesiredStateKeys): void {
    this.keys = keys;
  }

  /**
   * The fleet signing roots changed (a rotation here or on another replica): statements signed from
   * now on name the new digest. Cached statements are re-signed at a device's next fetch (the
   * digest is part of the cache key).
   */
  useSigningRootsDigest(digest: string | undefined): void {
    this.rootsDigest = digest;
  }

  get signingRootsDigest(): string | undefined {
    return this.rootsDigest;
  }

  get waiting(): number {
    return this.waiters.waiting;
  }

  /** How this replica's parked long-polls ended since start (the metrics). */
  get longPollsEnded(): Readonly<Waiters['ended']> {
    return this.waiters.ended;
  }

  /** Renders and stores new manifests for these devices inside `tx`; devices are woken at commit. */
  private async rerender(tx: Queryable, deviceIds: readonly string[]): Promise<void> {
    const unique = [...new Set(deviceIds)].sort();
    // Kept before commit: content-addressed, and only served to a device whose committed manifest names it.
    await renderDevices(tx, this.o.placements, unique, (digest, mediaType, bytes) => this.documents.put(digest, mediaType, bytes));
    // NOTIFY is delivered at commit, to every replica listening (this one included).
    for (const payload of notifyPayloads(unique)) await tx.query('SELECT pg_notify($1, $2)', [DESIRED_STATE_CHANNEL, payload]);
  }

  /**
   * A commit (here or on another replica) changed these devices: forget their cached manifests,
   * load those that devices are waiting for in one query, then wake the waiters.
   */
  private async changedElsewhere(deviceIds: readonly string[]): Promise<void> {
    for (const id of deviceIds) this.cache.invalidate(id);
    const waited = deviceIds.filter((id) => this.waiters.has(id));
    if (waited.length > 0) {
      await this.cache
        .loading(waited, () => stored.getManifests(this.o.store, waited))
        .catch((err: unknown) => {
          this.o.logger.warn({ err, devices: waited.length }, 'could not preload changed manifests; waiters read them themselves');
        });
    }
    for (const id of deviceIds) this.waiters.wake(id);
  }

  /** The device's current manifest; a device seen for the first time gets version 1, rendered now. */
  async manifest(deviceId: string): Promise<stored.StoredManifest> {
    this.o.onPoll?.(deviceId);
    const existing = await this.cache.get(deviceId, () => stored.getManifest(this.o.store, deviceId));
    if (existing) return existing;
    await this.o.store.transaction(async (tx) => {
      if (!(await stored.getManifest(tx, deviceId))) await this.rerender(tx, [deviceId]);
    });
    const created = await stored.getManifest(this.o.store, deviceId);
    if (!created) throw new Error(`no desired state for ${deviceId} after rendering it`);
    return created;
  }

  /**
   * The statement for this manifest, bound to the certificate the device called with. Cached per
   * device until half its lifetime, so a poll rarely costs a signature.
   */
  async signature(manifest: stored.StoredManifest, certificateFingerprintHex: string, now = Date.now()): Promise<string> {
    const rootsDigest = this.rootsDigest;
    const key = `${manifest.digest}|${certificateFingerprintHex}|${this.keys.signer.keyId}|${rootsDigest ?? ''}`;
    const cached = this.signatures.get(manifest.deviceId);
    if (cached && cached.key === key && cached.refreshAt > now) return cached.jws;
    const parsed = JSON.parse(manifest.bytes.toString('utf8')) as {
      bundle: { digest: string } | null;
      deployments: { deploymentId: string; digest: string }[];
    };
    const iat = Math.floor(now / 1000);
    const jws = await this.keys.signer.sign({
      iss: this.o.issuer,
      sub: manifest.deviceId,
      cnf: { 'x5t#S256': thumbprintFromHexFingerprint(certificateFingerprintHex) },
      manifestVersion: manifest.manifestVersion,
      manifestDigest: manifest.digest as `sha256:${string}`,
      bundleDigest: parsed.bundle?.digest ?? null,
      deployments: parsed.deployments.map((d) => ({ deploymentId: d.deploymentId, digest: d.digest })),
      ...(rootsDigest !== undefined ? { signingRootsDigest: rootsDigest } : {}),
      iat,
      exp: iat + Math.floor(this.lifetimeMs / 1000),
    });
    this.signatures.set(manifest.deviceId, { key, jws, refreshAt: now + this.lifetimeMs / 2 });
    return jws;
  }

  /**
   * A document the device's manifests have named. From memory when the device's current manifest
   * names it (the common case: fetching what it was just told about), else from the store, which
   * also knows what its earlier manifests named.
   */
  async document(deviceId: string, digest: string): Promise<{ mediaType: string; bytes: Buffer; deploymentId: string | null } | undefined> {
    const kept = this.documents.get(digest);
    const current = kept && (await this.cache.get(deviceId, () => stored.getManifest(this.o.store, deviceId)));
    if (kept && current) {
      const named = JSON.parse(current.bytes.toString('utf8')) as {
        bundle: { digest: string } | null;
        deployments: { deploymentId: string; digest: string }[];
      };
      if (named.bundle?.digest === digest) return { ...kept, deploymentId: null };
      const deployment = named.deployments.find((d) => d.digest === digest);
      if (deployment) return { ...kept, deploymentId: deployment.deploymentId };
    }
    const doc = await stored.getDocument(this.o.store, deviceId, digest);
    if (doc) this.documents.put(digest, doc.mediaType, doc.bytes);
    return doc;
  }

  /** Parks until the device's state changes (on any replica), `ms` passes, or the caller leaves. */
  waitForChange(deviceId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return this.waiters.wait(deviceId, ms, signal);
  }

  async close(): Promise<void> {
    this.waiters.wakeAll();
    await this.stopListening?.();
  }
}
