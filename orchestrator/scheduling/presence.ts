import * as health from '../store/device-health.js';
import type { Queryable } from '../store/store.js';

/**
 * Polls seen by this replica, kept in memory and written in one statement per flush (the
 * reconciler's), so a fleet's polls cost no store write each. At most one timestamp per device.
 */
export class DevicePresence {
  private seenSince = new Map<string, number>();

  seen(deviceId: string, at = Date.now()): void {
    const before = this.seenSince.get(deviceId);
    if (before === undefined || at > before) this.seenSince.set(deviceId, at);
  }

  get pending(): number {
    return this.seenSince.size;
  }

  async flush(q: Queryable): Promise<void> {
    if (this.seenSince.size === 0) return;
    const batch = this.seenSince;
    this.seenSince = new Map();
    try {
      await health.recordSeen(q, batch);
    } catch (err) {
      // Not lost: merged back for the next flush.
      for (const [id, at] of batch) this.seen(id, at);
      throw err;
    }
  }
}
