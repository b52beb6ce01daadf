import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditLog } from '../audit/audit-log.js';
import { lockDataDir } from '../data-dir-lock.js';
import type { DesiredStateService } from '../desired-state/service.js';
import type { DeviceAuthCache } from '../http/device-auth-cache.js';
import { startRevocationUpkeep, type RevocationUpkeep, type RevocationUpkeepOptions } from '../revocations/upkeep.js';
import { startReconciler, type Reconciler, type ReconcilerOptions } from '../scheduling/reconcile.js';
import { openStore, type Store, type StoreLocation } from '../store/store.js';

/**
 * The data directory's lock, the store, and what runs against the store for as long as the control
 * plane does: the desired-state service, device authentication's cache, the revocation list's
 * upkeep, the scheduler's reconciler and the audit log. Whatever of them was started is stopped, in one order,
 * whether the control plane closes or fails to start.
 */
export class StoreAndJobs {
  desiredState?: DesiredStateService;
  deviceAuth?: DeviceAuthCache;
  reconciler?: Reconciler;
  /** The audit log, kept in this store: flushed before it closes. */
  audit?: AuditLog;
  private revocations?: RevocationUpkeep;

  private constructor(
    readonly store: Store,
    private readonly lock: { release(): void },
  ) {}

  /**
   * Locks the data directory (one control plane per directory), then opens the store: PostgreSQL
   * at `storeUrl`, else PGlite in `<dataDir>/store`. `wrap` (the metrics' counting) is applied
   * once here, so every part of the control plane uses the same wrapped store.
   */
  static async open(dataDir: string, storeUrl: string | undefined, wrap: (store: Store) => Store = (s) => s): Promise<StoreAndJobs> {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const lock = lockDataDir(join(dataDir, 'control-plane.lock'));
    const location: StoreLocation = storeUrl ? { kind: 'postgres', url: storeUrl } : { kind: 'pglite', dataDir: join(dataDir, 'store') };
    try {
      return new StoreAndJobs(wrap(await openStore(location)), lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  async startRevocationUpkeep(options: Omit<RevocationUpkeepOptions, 'store'>): Promise<void> {
    this.revocations = await startRevocationUpkeep({ store: this.store, ...options });
  }

  startReconciler(options: Omit<ReconcilerOptions, 'store'>): void {
    this.reconciler = startReconciler({ store: this.store, ...options });
  }

  /** The jobs and services, before the server closes (a request in flight may still need the store). */
  async stopJobs(): Promise<void> {
    await this.reconciler?.stop();
    await this.revocations?.stop();
    await this.desiredState?.close();
    await this.deviceAuth?.close();
  }

  /** The audit log's last events, the store, then the lock: last. */
  async close(): Promise<void> {
    await this.audit?.flush();
    await this.store.close();
    this.lock.release();
  }
}
