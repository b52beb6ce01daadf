import type { Logger } from '../../common/logger.js';
import { pauseOverdueWaves } from '../deployments/rollout.js';
import { pruneRuns } from '../store/runs.js';
import { pruneAuditEvents } from '../store/audit.js';
import { pruneUsageSamples } from '../store/usage-samples.js';
import type { DesiredStateChanged } from '../desired-state/placement.js';
import * as health from '../store/device-health.js';
import type { Store } from '../store/store.js';
import type { DevicePresence } from './presence.js';
import { rescheduleAll, rescheduleDevice } from './scheduler.js';

/** One replica reconciles at a time: the others find this lock taken and skip their turn. */
const RECONCILE_LOCK = 0x62657276;

export interface ReconcileOptions {
  store: Store;
  changed: DesiredStateChanged;
  /** A device silent this long becomes `unknown` (ms). */
  staleAfterMs: number;
  /** Look back this far before the last reconcile's start, for changes committed late (ms). */
  overlapMs: number;
  /** More changed devices than this: one fleet-wide sweep instead of device by device. */
  sweepAbove?: number;
  /** Runs of apps on devices that ended longer ago than this are forgotten (exposure reports reach back this far), and so are audit events older than this. */
  runHistoryDays?: number;
  /** Apps' usage samples older than this are forgotten (docs/accounting.md, "Usage history"). */
  usageHistoryDays?: number;
}

/** Two years: a vulnerability found late still finds the devices that ran the version (docs/vulnerability-response.md). */
export const DEFAULT_RUN_HISTORY_DAYS = 730;

/**
 * Two weeks of apps' resource use: enough to compare this week with last, where a sample every
 * few minutes per app on every device of a large fleet would fill the store over two years.
 */
export const DEFAULT_USAGE_HISTORY_DAYS = 14;

export type ReconcileResult = { skipped: true } | { skipped: false; stale: string[]; rescheduled: number | 'all'; pausedRollouts: string[] };

/**
 * One periodic pass, in one transaction: mark silent devices `unknown`, then recompute placements
 * for every device whose status, labels, capabilities or health changed since the last pass
 * (device by device; one sweep of every deployment when there are many, or on the first pass).
 */
export async function reconcileOnce(o: ReconcileOptions): Promise<ReconcileResult> {
  return o.store.transaction(async (tx) => {
    const [got] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [RECONCILE_LOCK]);
    if (!got?.locked) return { skipped: true };
    const last = await health.lastReconcile(tx);
    const stale = await health.markStale(tx, o.staleAfterMs);
    const since = last && new Date(last.getTime() - o.overlapMs);
    const { now, deviceIds } = await health.changedSince(tx, since);
    let rescheduled: number | 'all';
    if (deviceIds === 'all' || deviceIds.length > (o.sweepAbove ?? 200)) {
      await rescheduleAll(tx, o.changed);
      rescheduled = 'all';
    } else {
      for (const id of deviceIds) await rescheduleDevice(tx, id, o.changed);
      rescheduled = deviceIds.length;
    }
    // Rollouts are moved on by device reports; the one thing a report cannot do is not arrive.
    const pausedRollouts = await pauseOverdueWaves(tx);
    // The history operators read back: exposure reports and the audit log as long as each other, usage shorter.
    await pruneRuns(tx, o.runHistoryDays ?? DEFAULT_RUN_HISTORY_DAYS);
    await pruneAuditEvents(tx, o.runHistoryDays ?? DEFAULT_RUN_HISTORY_DAYS);
    await pruneUsageSamples(tx, o.usageHistoryDays ?? DEFAULT_USAGE_HISTORY_DAYS);
    await health.setLastReconcile(tx, now);
    return { skipped: false, stale, rescheduled, pausedRollouts };
  });
}

export interface ReconcilerOptions extends ReconcileOptions {
  presence: DevicePresence;
  logger: Logger;
  /** Mean time between passes (ms); each wait is drawn from ±`jitter` of it. */
  intervalMs: number;
  /** 0..1, default 0.2: replicas started together drift apart instead of contending each time. */
  jitter?: number;
  /** Told of every pass (tests). */
  onPass?: (result: ReconcileResult) => void;
}

export interface Reconciler {
  /** Flush presence and reconcile now (waits for a pass in flight first). */
  runNow(): Promise<ReconcileResult>;
  stop(): Promise<void>;
}

/** The timer: flush this replica's presence, then one reconcile pass, then wait a jittered interval. */
export function startReconciler(o: ReconcilerOptions): Reconciler {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<ReconcileResult> | undefined;
  const pass = async (): Promise<ReconcileResult> => {
    await o.presence.flush(o.store);
    const result = await reconcileOnce(o);
    if (!result.skipped && (result.stale.length > 0 || result.rescheduled !== 0)) {
      o.logger.info({ stale: result.stale.length, rescheduled: result.rescheduled }, 'scheduler reconciled');
    }
    if (!result.skipped && result.pausedRollouts.length > 0)
      o.logger.warn({ deployments: result.pausedRollouts }, 'rollouts paused: a wave outlived its timeout');
    o.onPass?.(result);
    return result;
  };
  const run = (): Promise<ReconcileResult> => {
    const next = (running ?? Promise.resolve(undefined)).catch(() => undefined).then(pass);
    running = next;
    return next;
  };
  const schedule = (): void => {
    if (stopped) return;
    const jitter = Math.min(1, Math.max(0, o.jitter ?? 0.2));
    const wait = o.intervalMs * (1 - jitter + Math.random() * 2 * jitter);
    timer = setTimeout(() => {
      run()
        .catch((err: unknown) => o.logger.warn({ err }, 'scheduler reconcile failed; next pass retries'))
        .finally(schedule);
    }, wait);
    timer.unref();
  };
  schedule();
  return {
    runNow: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
      // What this replica saw since the last pass still counts.
      await o.presence.flush(o.store).catch(() => undefined);
    },
  };
}
