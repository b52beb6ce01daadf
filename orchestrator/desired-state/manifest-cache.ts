import type { StoredManifest } from '../store/desired-state.js';

/**
 * Each device's current manifest, kept in memory so that a poll or a long-poll wake-up does not
 * cost a store round trip. Correct because every change to a manifest commits a NOTIFY naming the
 * device (on any replica) and `invalidate` runs when it arrives; a read that was in flight when
 * the notification came is not cached (it may have read the state before). Entries also expire
 * after `ttlMs`, which bounds how stale a replica can be if its LISTEN connection drops a
 * notification while it reconnects.
 */
export class ManifestCache {
  private readonly entries = new Map<string, { manifest: StoredManifest; expires: number }>();
  private readonly inflight = new Map<string, Set<{ dirty: boolean }>>();

  constructor(
    private readonly ttlMs = 15_000,
    private readonly maxEntries = 100_000,
  ) {}

  /** The cached manifest, or `load()`'s answer (cached unless the device changed meanwhile). */
  async get(deviceId: string, load: () => Promise<StoredManifest | undefined>, now = Date.now()): Promise<StoredManifest | undefined> {
    const hit = this.entries.get(deviceId);
    if (hit && hit.expires > now) return hit.manifest;
    const loaded = await this.loading([deviceId], async () => {
      const m = await load();
      return new Map(m ? [[deviceId, m]] : []);
    });
    return loaded.get(deviceId);
  }

  /** Loads many devices' manifests in one go and caches those that did not change meanwhile. */
  async loading(deviceIds: readonly string[], load: () => Promise<Map<string, StoredManifest>>): Promise<Map<string, StoredManifest>> {
    const tokens = new Map(deviceIds.map((id) => [id, { dirty: false }]));
    for (const [id, token] of tokens) {
      let set = this.inflight.get(id);
      if (!set) this.inflight.set(id, (set = new Set()));
      set.add(token);
    }
    try {
      const loaded = await load();
      for (const m of loaded.values()) if (tokens.get(m.deviceId)?.dirty === false) this.put(m);
      return loaded;
    } finally {
      for (const [id, token] of tokens) {
        const set = this.inflight.get(id);
        set?.delete(token);
        if (set?.size === 0) this.inflight.delete(id);
      }
    }
  }

  invalidate(deviceId: string): void {
    this.entries.delete(deviceId);
    const set = this.inflight.get(deviceId);
    if (set) for (const t of set) t.dirty = true;
  }

  /** Forgets every manifest, and keeps no read that is in flight (notifications were lost). */
  clear(): void {
    this.entries.clear();
    for (const set of this.inflight.values()) for (const t of set) t.dirty = true;
  }

  private put(m: StoredManifest): void {
    this.entries.delete(m.deviceId);
    this.entries.set(m.deviceId, { manifest: m, expires: Date.now() + this.ttlMs });
    // Oldest first: a Map iterates in insertion order.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
