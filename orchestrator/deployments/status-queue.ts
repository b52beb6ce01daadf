import type { DesiredStateChanged } from '../desired-state/placement.js';
import type { Store } from '../store/store.js';
import { recordDeviceStatus, recordDeviceStatuses, type DeviceReport, type ReportOutcome } from './status.js';

interface Queued {
  report: DeviceReport;
  resolve: (outcome: ReportOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for status reports: reports that arrive while a transaction is writing wait for
 * the next one, which writes them all together. An idle control plane writes a lone report at
 * once (no timer); a busy one writes hundreds per transaction instead of one each, which is what
 * a fleet adopting a deployment at the same moment needs. Each report still gets its own answer:
 * if a shared transaction fails, its reports are written again one by one, so a bad one cannot
 * take its neighbours down and nothing is half-applied.
 */
export class StatusReportQueue {
  private queued: Queued[] = [];
  private draining = false;

  constructor(
    private readonly store: Store,
    private readonly changed: DesiredStateChanged,
    private readonly maxBatch = 500,
  ) {}

  record(report: DeviceReport): Promise<ReportOutcome> {
    return new Promise((resolve, reject) => {
      this.queued.push({ report, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // After this turn's other requests have queued theirs.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.length > 0) {
        const batch = this.take();
        try {
          const outcomes = await this.store.transaction((tx) =>
            recordDeviceStatuses(
              tx,
              batch.map((q) => q.report),
              this.changed,
            ),
          );
          batch.forEach((q, i) => q.resolve(outcomes[i]!));
        } catch {
          for (const q of batch) {
            await this.store.transaction((tx) => recordDeviceStatus(tx, q.report, this.changed)).then(q.resolve, q.reject);
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** The oldest reports, at most one per deployment and device (a later one waits for the next batch). */
  private take(): Queued[] {
    const batch: Queued[] = [];
    const rest: Queued[] = [];
    const keys = new Set<string>();
    for (const q of this.queued) {
      const key = `${q.report.deploymentId}\n${q.report.deviceId}`;
      if (batch.length < this.maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(q);
      } else rest.push(q);
    }
    this.queued = rest;
    return batch;
  }
}
