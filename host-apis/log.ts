import type { GrantSet } from '../wire/grants.js';
import type { AppLogLevel, AppLogRecord, AppLogSink } from './app-context.js';
import { TokenBucket } from './rate-limiter.js';
import { truncateText } from '../common/text.js';

const MAX_MESSAGE = 4096;
const MAX_FIELDS = 32;
const MAX_FIELD = 1024;
const LEVELS = new Set<AppLogLevel>(['trace', 'debug', 'info', 'warn', 'error']);

export type LogGrant = NonNullable<GrantSet['log']>;
export const DEFAULT_LOG_GRANT: LogGrant = { linesPerSecond: 100, burst: 200 };

/**
 * How often a count of dropped lines may be reported. The report is a line of its own: made at
 * the end of every call, an app over its rate that is called often (an HTTP app under load) sent
 * one per request, so the flood reached the device's logs as reports, and each cost the app's
 * thread a message to the controlling thread (docs/http.md, "Performance").
 */
export const DROP_REPORT_INTERVAL_MS = 1_000;

/**
 * The app's log lines, bounded in size and rate. Lines over the rate are dropped and counted;
 * the count is reported when the app is allowed to log again or its call ends, at most once a
 * second (a report held back is made by a timer once the interval has passed), so an operator
 * sees that lines are missing without the flood itself reaching the device's logs.
 */
export class AppLogger {
  private readonly bucket: TokenBucket;
  private dropped = 0;
  private lastReport = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    grant: LogGrant,
    private readonly sink: AppLogSink,
    private readonly redact: (text: string) => string,
  ) {
    this.bucket = new TokenBucket(grant.linesPerSecond, grant.burst);
  }

  get droppedLines(): number {
    return this.dropped;
  }

  write(record: AppLogRecord): void {
    if (!this.bucket.take()) {
      this.dropped++;
      return;
    }
    this.reportDropped();
    this.sink({ ...record, message: this.redact(truncate(record.message, MAX_MESSAGE)), fields: record.fields && this.cleanFields(record.fields) });
  }

  /** Says how many lines were dropped since the last report; called when a call into the app ends. */
  reportDropped(): void {
    if (this.dropped === 0) return;
    const wait = this.lastReport + DROP_REPORT_INTERVAL_MS - performance.now();
    if (wait > 0) {
      // Between calls the thread's event loop runs, so a count held back is not lost.
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.reportDropped();
      }, wait);
      this.timer.unref?.();
      return;
    }
    this.lastReport = performance.now();
    this.sink({ level: 'warn', source: 'host', message: `${this.dropped} log lines dropped: over the rate limit`, fields: { dropped: String(this.dropped) } });
    this.dropped = 0;
  }

  private cleanFields(fields: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields).slice(0, MAX_FIELDS)) out[truncate(k, 128)] = this.redact(truncate(v, MAX_FIELD));
    return out;
  }
}

function truncate(s: string, max: number): string {
  return truncateText(s, max + 1, '…');
}

/** `berth:host/log`, built from the app's logger. */
export function createLogHost(logger: AppLogger) {
  return {
    log(level: string, message: string, fields: [string, string][]): void {
      const lvl = LEVELS.has(level as AppLogLevel) ? (level as AppLogLevel) : 'info';
      logger.write({ level: lvl, message, fields: fields.length ? Object.fromEntries(fields) : undefined, source: 'log' });
    },
  };
}

/** Splits a byte stream (stdout/stderr) into log lines. */
export class LineSplitter {
  private pending = '';
  private readonly decoder = new TextDecoder();

  constructor(private readonly emit: (line: string) => void) {}

  push(bytes: Uint8Array): void {
    this.pending += this.decoder.decode(bytes, { stream: true });
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) !== -1) {
      this.emit(this.pending.slice(0, nl));
      this.pending = this.pending.slice(nl + 1);
    }
    if (this.pending.length > MAX_MESSAGE) {
      this.emit(this.pending);
      this.pending = '';
    }
  }

  flush(): void {
    if (this.pending) this.emit(this.pending);
    this.pending = '';
  }
}
