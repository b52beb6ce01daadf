import type { Logger } from '../../common/logger.js';

/** One thing another replica may have changed in the shared store or key directory. */
export interface ReplicaCheck {
  /** Picks up the change, if there is one (what it answers is not used). */
  refresh(): Promise<unknown>;
  /** The warning logged when the check itself fails (it is tried again next time). */
  failure: string;
}

export interface ReplicaRefresh {
  stop(): void;
}

/**
 * Looks every `intervalMs` for what other replicas changed (CA, desired-state key, fleet signing
 * roots), all checks at once, never two rounds at a time; 0 turns it off.
 */
export function startReplicaRefresh(checks: readonly ReplicaCheck[], intervalMs: number, logger: Logger): ReplicaRefresh {
  if (intervalMs <= 0) return { stop() {} };
  let refreshing = false;
  const timer = setInterval(() => {
    if (refreshing) return;
    refreshing = true;
    Promise.all(checks.map((c) => c.refresh().catch((err: unknown) => logger.warn({ err }, c.failure)))).finally(() => (refreshing = false));
  }, intervalMs).unref();
  return { stop: () => clearInterval(timer) };
}
