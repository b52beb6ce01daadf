import type { Logger } from '../../common/logger.js';
import type { PresentedCertificate } from '../store/certificates.js';
import type { Store } from '../store/store.js';

/** Announced by a trigger (migration 10) whenever a device's status or a certificate's state changes. */
export const DEVICE_AUTH_CHANNEL = 'berth_device_auth';

/**
 * The accepted-client lookup (certificate row, device status) per presented certificate, kept in
 * memory so a kept-alive device costs no store query per request: with 10,000 devices that lookup
 * was the largest single cost of a rollout (docs/benchmarks.md "fleet").
 *
 * Only the store's answer is kept; the checks that depend on time or on the CA (expiry, retired
 * issuer) still run on every request. An entry is forgotten when the store announces a change to
 * its device, which every replica hears at commit; the replica that made the change also forgets
 * at once (`forget`), so on that replica a revocation is refused on the very next request. A
 * lookup that was in flight while anything was forgotten is not kept (it may have read the state
 * before). When the store's notification connection was lost, everything is forgotten.
 */
export class DeviceAuthCache {
  private readonly entries = new Map<string, PresentedCertificate>();
  private readonly byDevice = new Map<string, Set<string>>();
  private generation = 0;
  private stopListening: (() => Promise<void>) | undefined;

  constructor(private readonly maxEntries = 200_000) {}

  static async open(store: Store, logger: Logger, maxEntries?: number): Promise<DeviceAuthCache> {
    const cache = new DeviceAuthCache(maxEntries);
    cache.stopListening = await store.listen(
      DEVICE_AUTH_CHANNEL,
      (deviceId) => cache.forget(deviceId),
      () => {
        logger.warn('store notifications were interrupted; forgetting every cached device authentication');
        cache.forgetAll();
      },
    );
    return cache;
  }

  /** The cached answer for this certificate, or `load()`'s (kept unless something changed meanwhile). */
  async presented(fingerprint: string, load: () => Promise<PresentedCertificate | undefined>): Promise<PresentedCertificate | undefined> {
    const hit = this.entries.get(fingerprint);
    if (hit) return hit;
    const generation = this.generation;
    const loaded = await load();
    // Unknown certificates are not kept: a device onboarded a moment later must be found.
    if (loaded && generation === this.generation) this.put(fingerprint, loaded);
    return loaded;
  }

  forget(deviceId: string): void {
    this.generation++;
    for (const fingerprint of this.byDevice.get(deviceId) ?? []) this.entries.delete(fingerprint);
    this.byDevice.delete(deviceId);
  }

  forgetAll(): void {
    this.generation++;
    this.entries.clear();
    this.byDevice.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    await this.stopListening?.();
  }

  private put(fingerprint: string, presented: PresentedCertificate): void {
    const deviceId = presented.certificate.deviceId;
    this.entries.set(fingerprint, presented);
    let fingerprints = this.byDevice.get(deviceId);
    if (!fingerprints) this.byDevice.set(deviceId, (fingerprints = new Set()));
    fingerprints.add(fingerprint);
    // Oldest first (a Map iterates in insertion order); what falls out is looked up again.
    while (this.entries.size > this.maxEntries) {
      const [oldest, entry] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      const siblings = this.byDevice.get(entry.certificate.deviceId);
      siblings?.delete(oldest);
      if (siblings?.size === 0) this.byDevice.delete(entry.certificate.deviceId);
    }
  }
}
