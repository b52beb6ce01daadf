import type { StopReport, UsageReport } from '../sandbox/protocol.js';

const PAGE_BYTES = 65536;

/** One app's use of the device, over all its instances since it was started (docs/accounting.md). */
export interface AppUsage {
  memory: {
    /** Guest linear memory of the running instance (0 when none runs). */
    pages: number;
    bytes: number;
    /** The most any instance of the app reached. */
    peakPages: number;
    /** Used JS heap of the running instance's thread; undefined when unknown or shared. */
    jsHeapBytes: number | undefined;
  };
  cpu: {
    /** Measured in the sandbox thread: running the app, less time blocked in host calls. */
    busyMs: number;
    /** Invocations ended at their deadline are not measured inside; each counts its deadline here. */
    deadlineMs: number;
    /** Time the app's thread sat blocked waiting for host calls answered on the controlling thread. */
    blockedMs: number;
  };
  /** Calls into each imported interface (free functions). */
  hostCalls: Record<string, number>;
  /** Payload bytes the app sent and received (messaging; HTTP adds through UsageLedger.recordBytes). */
  bytes: { in: number; out: number };
  messaging: { published: number; received: number; dropped: number };
  /** Instances started (first start and restarts). */
  instances: number;
  /** Instance ends by reason. */
  stops: Record<string, number>;
  /** Filled in by the supervisor, which decides restarts. */
  restarts: number;
  /** The engine and its version the app was last started on (`wasmtime@49.0.0+winch`); absent before its first start. */
  engine?: string;
}

interface Totals {
  busyMs: number;
  blockedMs: number;
  hostCalls: Map<string, number>;
}

/**
 * Adds up one app's usage. Instances report cumulative figures; when a report comes from a new
 * instance (a restart), the previous instance's last report is folded into the totals, so an
 * app that restarts a thousand times still holds two reports, not a thousand.
 */
export class AppAccount {
  private readonly past: Totals = { busyMs: 0, blockedMs: 0, hostCalls: new Map() };
  private current: { instance: string; report: UsageReport } | undefined;
  private endedInstance: string | undefined;
  private peakPages = 0;
  private instances = 0;
  private deadlineMs = 0;
  private readonly bytes = { in: 0, out: 0 };
  private readonly messaging = { published: 0, received: 0, dropped: 0 };
  private readonly stops = new Map<string, number>();
  private engine: string | undefined;

  /** The engine the app is started on (the CompiledComponent's `engineName`); a later start on another engine replaces it. */
  recordEngine(engineName: string): void {
    this.engine = engineName;
  }

  report(instance: string, report: UsageReport): void {
    // A report that trails its instance's end was folded already (instances run one after another).
    if (instance === this.endedInstance) return;
    if (this.current?.instance !== instance) {
      this.fold();
      this.instances++;
    }
    this.current = { instance, report };
    this.peakPages = Math.max(this.peakPages, report.memoryPages);
  }

  /** An instance ended: its memory is gone; a deadline's unmeasured time is charged in full. */
  recordStop(stop: StopReport, cpuDeadlineMs: number): void {
    this.fold();
    this.stops.set(stop.reason, (this.stops.get(stop.reason) ?? 0) + 1);
    if (stop.reason === 'deadline') this.deadlineMs += cpuDeadlineMs;
  }

  recordBytes(direction: 'in' | 'out', bytes: number): void {
    this.bytes[direction] += bytes;
  }

  recordMessages(kind: 'published' | 'received' | 'dropped', count: number): void {
    this.messaging[kind] += count;
  }

  snapshot(): AppUsage {
    const now = this.current?.report;
    const hostCalls = new Map(this.past.hostCalls);
    for (const [iface, n] of Object.entries(now?.hostCalls ?? {})) hostCalls.set(iface, (hostCalls.get(iface) ?? 0) + n);
    const pages = now?.memoryPages ?? 0;
    return {
      memory: { pages, bytes: pages * PAGE_BYTES, peakPages: this.peakPages, jsHeapBytes: now?.jsHeapBytes },
      cpu: { busyMs: this.past.busyMs + (now?.busyMs ?? 0), deadlineMs: this.deadlineMs, blockedMs: this.past.blockedMs + (now?.blockedMs ?? 0) },
      hostCalls: Object.fromEntries([...hostCalls].sort(([a], [b]) => a.localeCompare(b))),
      bytes: { ...this.bytes },
      messaging: { ...this.messaging },
      instances: this.instances,
      stops: Object.fromEntries(this.stops),
      restarts: 0,
      ...(this.engine ? { engine: this.engine } : {}),
    };
  }

  private fold(): void {
    const last = this.current?.report;
    if (!last) return;
    this.endedInstance = this.current!.instance;
    this.past.busyMs += last.busyMs;
    this.past.blockedMs += last.blockedMs;
    for (const [iface, n] of Object.entries(last.hostCalls)) this.past.hostCalls.set(iface, (this.past.hostCalls.get(iface) ?? 0) + n);
    this.current = undefined;
  }
}
