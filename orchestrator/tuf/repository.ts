import { MetadataKind, type Metadata, type Root } from '@tufjs/models';
import { BerthError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { checkRootUpdate, parseRoot } from '../../trust/tuf/root.js';
import type { TufSigningKey } from '../../trust/tuf/keys.js';
import { ONLINE_ROLES, type OnlineRole } from '../../wire/tuf.js';
import type { OnlineKeySet, TufStatus } from '../../wire/tuf-admin.js';
import type { Queryable, Store } from '../store/store.js';
import { insertMetadata, latestMetadata, metadataAt, targetFile, TUF_PUBLISH_LOCK } from '../store/tuf.js';
import { publishOnline, serialise, type TargetDocument } from './online-roles.js';
import type { OnlineKeys } from './online-keys.js';

/**
 * The fleet's TUF repository (docs/tuf.md): root comes from the offline keys through
 * `importRoot`; targets, snapshot and timestamp are signed here with the online keys the root
 * names, whenever the trust documents change or half of a role's life has passed. Everything is
 * kept in the store under one lock, so replicas serve and extend the same history.
 */
export class TufRepository {
  constructor(
    private readonly store: Store,
    private readonly keys: OnlineKeys,
    private readonly documents: () => Promise<TargetDocument[]>,
    private readonly logger: Logger,
  ) {}

  /** The root served now, or undefined before the operator's first `berth tuf init`. */
  async root(q: Queryable = this.store): Promise<Metadata<Root> | undefined> {
    const stored = await latestMetadata(q, MetadataKind.Root);
    return stored ? parseRoot(JSON.parse(stored.body)) : undefined;
  }

  /**
   * Takes the next root (the first, version 1, or one signed by a threshold of the current root's
   * keys), then re-signs the online roles with the keys it names: a rotation of stolen online
   * keys takes effect here. Online keys the root replaced are deleted from this replica.
   */
  async importRoot(json: unknown): Promise<{ version: number; published: OnlineRole[] }> {
    const next = parseRoot(json);
    const documents = await this.documents();
    const { previous, published } = await this.store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [TUF_PUBLISH_LOCK]);
      const trusted = await this.root(tx);
      checkRootUpdate(trusted, next);
      const online = await this.onlineKeys(next);
      await insertMetadata(tx, { role: MetadataKind.Root, version: next.signed.version, body: serialise(next) });
      return { previous: trusted, published: await publishOnline(tx, online, documents, new Date(), true) };
    });
    if (previous) {
      const named = new Set(ONLINE_ROLES.flatMap((r) => next.signed.roles[r]!.keyIDs));
      await this.keys.forget(ONLINE_ROLES.flatMap((r) => previous.signed.roles[r]!.keyIDs).filter((id) => !named.has(id)));
    }
    return { version: next.signed.version, published };
  }

  /** Re-signs what changed or is half-way to expiry; nothing before a root exists. Returns the roles signed. */
  async keepCurrent(now = new Date()): Promise<OnlineRole[]> {
    // Most control planes have no root yet, or nothing to sign: one read, no documents, no lock.
    if (!(await latestMetadata(this.store, MetadataKind.Root))) return [];
    const documents = await this.documents();
    return this.store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [TUF_PUBLISH_LOCK]);
      const root = await this.root(tx);
      if (!root) return [];
      return publishOnline(tx, await this.onlineKeys(root), documents, now, false);
    });
  }

  /** A fresh online key per role, saved on this replica, for the operator's next root to name. */
  async newOnlineKeys(): Promise<OnlineKeySet> {
    const set = await this.keys.newSet();
    const entry = (r: OnlineRole) => ({ keyid: set[r].key.keyID, key: set[r].key.toJSON() as OnlineKeySet['keys'][OnlineRole]['key'] });
    return { keys: { targets: entry('targets'), snapshot: entry('snapshot'), timestamp: entry('timestamp') } };
  }

  /** What the repository serves now, for operators (`berth tuf status`). */
  async status(): Promise<TufStatus> {
    const root = await this.root();
    const role = async (name: OnlineRole) => {
      const stored = await latestMetadata(this.store, name);
      return stored ? { version: stored.version, expires: (JSON.parse(stored.body) as { signed: { expires: string } }).signed.expires } : null;
    };
    const targets = await latestMetadata(this.store, MetadataKind.Targets);
    return {
      root: root
        ? { version: root.signed.version, expires: root.signed.expires, threshold: root.signed.roles.root!.threshold, keyids: root.signed.roles.root!.keyIDs }
        : null,
      targets: await role('targets'),
      snapshot: await role('snapshot'),
      timestamp: await role('timestamp'),
      targetPaths: targets ? Object.keys((JSON.parse(targets.body) as { signed: { targets: object } }).signed.targets).sort() : [],
    };
  }

  /** Metadata by the name a TUF client asks for: `<n>.root.json`, `timestamp.json`, `<n>.snapshot.json`, `<n>.targets.json`. */
  async metadata(name: string): Promise<string | undefined> {
    if (name === 'timestamp.json') return (await latestMetadata(this.store, MetadataKind.Timestamp))?.body;
    const m = /^([1-9]\d{0,8})\.(root|snapshot|targets)\.json$/.exec(name);
    return m ? (await metadataAt(this.store, m[2]!, Number(m[1])))?.body : undefined;
  }

  /** A target file by its served path, `<dir>/<sha256>.<name>`. */
  async target(servedPath: string): Promise<string | undefined> {
    const m = /^(?:(.+)\/)?([0-9a-f]{64})\.([^/]+)$/.exec(servedPath);
    if (!m) return undefined;
    return targetFile(this.store, m[2]!, m[1] ? `${m[1]}/${m[3]}` : m[3]!);
  }

  /** The signing key of each online role the root names; one this replica lacks is an error naming it. */
  private async onlineKeys(root: Metadata<Root>): Promise<Record<OnlineRole, TufSigningKey>> {
    const keys = {} as Record<OnlineRole, TufSigningKey>;
    for (const role of ONLINE_ROLES) {
      const id = root.signed.roles[role]!.keyIDs[0]!;
      const key = await this.keys.byId(id);
      if (!key)
        throw new BerthError(
          'tuf.online_key_unknown',
          `the root names ${id} for ${role}, a key this control plane does not hold (make one with berth tuf online-keys)`,
        );
      keys[role] = key;
    }
    return keys;
  }
}
