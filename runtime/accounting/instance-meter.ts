import { getHeapStatistics } from 'node:v8';
import type { UsageReport } from '../sandbox/protocol.js';

/**
 * Counts what one instance uses, inside the thread that runs it (docs/accounting.md). Node 20
 * has no per-thread CPU clock, so "busy" is the wall time the thread spent running the instance
 * (instantiation and invocations) minus the time it sat blocked waiting for host calls answered
 * on the controlling thread. On an idle core that is its CPU time; when cores are contended it
 * overstates it.
 */
export class InstanceMeter {
  private busyMs = 0;
  private blockedMs = 0;
  private readonly calls = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  countCall(iface: string): void {
    this.calls.set(iface, (this.calls.get(iface) ?? 0) + 1);
  }

  /** Runs `work` as the instance's own work: its time counts as busy, less any blocked time inside. */
  measure<T>(work: () => T): T {
    const start = this.now();
    const blockedBefore = this.blockedMs;
    try {
      return work();
    } finally {
      this.busyMs += Math.max(0, this.now() - start - (this.blockedMs - blockedBefore));
    }
  }

  /** Runs a blocking host call: its time is not the instance's. */
  blocked<T>(call: () => T): T {
    const start = this.now();
    try {
      return call();
    } finally {
      this.blockedMs += this.now() - start;
    }
  }

  /** Cumulative since the instance was loaded. */
  report(memoryPages: number, measureHeap = true): UsageReport {
    return {
      memoryPages,
      jsHeapBytes: measureHeap ? getHeapStatistics().used_heap_size : undefined,
      busyMs: this.busyMs,
      blockedMs: this.blockedMs,
      hostCalls: Object.fromEntries(this.calls),
    };
  }
}
