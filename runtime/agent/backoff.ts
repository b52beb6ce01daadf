import { BerthError } from '../../common/errors.js';

export interface BackoffSettings {
  initialMs: number;
  maxMs: number;
  /** For tests: a source of randomness in [0, 1). */
  random?: () => number;
}

/**
 * How long to wait after a failure: the server's advice when it gave one (Retry-After or the
 * problem document's `retryAfterSeconds`), else exponential back-off with full jitter, so a
 * fleet that lost its control plane does not come back in one synchronized wave.
 */
export class Backoff {
  private failures = 0;

  constructor(private readonly settings: BackoffSettings) {}

  reset(): void {
    this.failures = 0;
  }

  /** The delay before the next attempt after `err`, in ms. */
  next(err?: unknown): number {
    this.failures++;
    const advised = advisedSeconds(err);
    // The server's advice wins over our own cap (it knows its load), within one hour.
    if (advised !== undefined) return Math.max(Math.min(advised, 3600) * 1000, this.settings.initialMs / 2);
    const ceiling = Math.min(this.settings.maxMs, this.settings.initialMs * 2 ** Math.min(this.failures - 1, 30));
    const random = this.settings.random ?? Math.random;
    // Full jitter, but never below half the initial delay (no tight loop against a dead server).
    return Math.max(this.settings.initialMs / 2, Math.floor(random() * ceiling));
  }
}

function advisedSeconds(err: unknown): number | undefined {
  if (!(err instanceof BerthError)) return undefined;
  const s = err.details?.retryAfterSeconds;
  return typeof s === 'number' && s >= 0 ? s : undefined;
}

/** Sleeps `ms`, or less when `signal` aborts (then resolves, never throws). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
