import type { Digest } from '../../common/digest.js';
import { BerthError, errorMessage } from '../../common/errors.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { referrersTag } from '../../oci/client.js';
import { mirrorRepository } from '../../oci/mirror-source.js';
import { parseReference } from '../../oci/reference.js';
import { checkManifest } from '../../oci/server/manifests.js';
import type { RegistryStorage, StorageSweep } from '../../oci/server/storage.js';
import { versionArtifacts } from '../store/catalog.js';
import type { Queryable } from '../store/store.js';

/**
 * Copies into the mirror and its garbage collection exclude each other (docs/mirror.md,
 * "Retiring versions and mirror clean-up"). An admission holds it shared from before its copy
 * until its version row is committed; a collection holds it alone, from reading the catalog to
 * its last deletion. Otherwise a collection could read the catalog before an admission's row is
 * in and remove a blob the admission found already present (and so did not copy again).
 * A waiting collection goes first: admissions that start after it wait for it.
 */
export class MirrorLock {
  private shared = 0;
  private exclusive: Promise<void> | undefined;
  private drained: (() => void)[] = [];

  async holdShared<T>(work: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    this.shared++;
    try {
      return await work();
    } finally {
      if (--this.shared === 0) for (const wake of this.drained.splice(0)) wake();
    }
  }

  async holdExclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    let release!: () => void;
    this.exclusive = new Promise<void>((r) => (release = r));
    try {
      while (this.shared > 0) await new Promise<void>((r) => this.drained.push(r));
      return await work();
    } finally {
      this.exclusive = undefined;
      release();
    }
  }
}

/**
 * What the mirror must keep, per mirror repository: for every version left in the catalog its
 * component manifest with the config and layer it names, every referrer of it (signatures,
 * attestations) with their blobs, and the referrers-tag index. Read from the store and from the
 * mirror's own manifests; an artifact the mirror does not hold adds only its digest.
 */
export async function neededDigests(q: Queryable, storage: RegistryStorage): Promise<Map<string, Set<Digest>>> {
  const needed = new Map<string, Set<Digest>>();
  for (const { repository, digest } of await versionArtifacts(q)) {
    let name: string;
    try {
      name = mirrorRepository(parseReference(`${repository}@${digest}`));
    } catch (err) {
      // Never mirrored (admission refuses what cannot be); anything else stops the collection.
      if (err instanceof BerthError && err.code === 'mirror.bad-reference') continue;
      throw err;
    }
    const keep = needed.get(name) ?? new Set<Digest>();
    needed.set(name, keep);
    await addManifest(storage, name, digest, keep);
    for (const r of await storage.referrers(name, digest)) await addManifest(storage, name, r.digest, keep);
    const tagged = await storage.manifest(name, referrersTag(digest));
    if (tagged) await addManifest(storage, name, tagged.digest, keep);
  }
  return needed;
}

async function addManifest(storage: RegistryStorage, name: string, digest: Digest, keep: Set<Digest>, depth = 0): Promise<void> {
  keep.add(digest);
  const stored = await storage.manifest(name, digest);
  if (!stored || depth > 2) return;
  // The storage checked these bytes when they were put; the same check lists what they name.
  const named = checkManifest(stored.bytes, stored.mediaType, digest);
  for (const b of named.blobs) keep.add(b.digest);
  for (const m of named.manifests) await addManifest(storage, name, m.digest, keep, depth + 1);
}

export interface MirrorCollectorOptions {
  store: Queryable;
  storage: RegistryStorage;
  lock: MirrorLock;
  /** Files younger than this are never removed (default 10 minutes): a second guard besides the lock. */
  minAgeMs?: number;
  logger?: Logger;
}

/**
 * Runs the mirror's garbage collection: after each retirement and once at start. Requests while
 * one runs coalesce into one more run after it. Failures are logged; the next request retries.
 */
export class MirrorCollector {
  private running: Promise<void> | undefined;
  private again = false;
  private readonly logger: Logger;

  constructor(private readonly options: MirrorCollectorOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** One collection now, under the lock alone; what was removed. */
  async collect(): Promise<StorageSweep> {
    return this.options.lock.holdExclusive(async () => {
      const olderThan = new Date(Date.now() - (this.options.minAgeMs ?? 10 * 60_000));
      const needed = await neededDigests(this.options.store, this.options.storage);
      const removed = await this.options.storage.sweep(needed, olderThan);
      this.logger.info({ ...removed, repositoriesKept: needed.size }, 'mirror garbage collected');
      return removed;
    });
  }

  /** Starts a collection in the background (or one more after the current one). */
  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.collect();
        } catch (err) {
          this.logger.error({ err: errorMessage(err) }, 'mirror garbage collection failed');
        }
      } while (this.again);
    })().finally(() => (this.running = undefined));
  }

  /** Resolves when no collection is running or requested. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}
