import { securityEvent } from '../../common/logger.js';
import type { Store } from '../store/store.js';
import { reissueRevocationList, type RevocationPublishing } from './publish.js';

export interface RevocationUpkeepOptions extends Omit<RevocationPublishing, 'now'> {
  store: Store;
  /** How often to look whether the list is due (ms; default a tenth of its lifetime, at most 10 min). */
  checkMs?: number;
}

export interface RevocationUpkeep {
  /** Re-issues now if the list is missing, lacks a trusted CA, or is past half its lifetime. */
  ensure(): Promise<void>;
  /** Stops the timer and waits for a re-issue in flight (before the store closes). */
  stop(): Promise<void>;
}

/**
 * Keeps the published revocation list current between revocations: on start, after every CA
 * change (a new issuing CA needs its CRL, a retired one leaves), and before it expires.
 * Every replica runs this; the row lock makes all but one of them a no-op.
 */
export async function startRevocationUpkeep(options: RevocationUpkeepOptions): Promise<RevocationUpkeep> {
  const { store, logger } = options;
  let stopped = false;
  const once = async (): Promise<void> => {
    const result = await store.transaction((tx) => reissueRevocationList(tx, options, false));
    if (result.reissued)
      securityEvent(logger, 'revocations.published', {
        number: result.list.number,
        issuers: result.list.issuers,
        skipped: result.skipped,
        nextUpdate: result.list.nextUpdate?.toISOString(),
      });
  };
  // One after another: a check queued behind a running one still sees what changed meanwhile.
  let queue: Promise<void> = Promise.resolve();
  const ensure = (): Promise<void> => (queue = queue.catch(() => {}).then(once));
  await ensure();
  const quietly = () => {
    if (!stopped) void ensure().catch((err: unknown) => logger.error({ err }, 'could not re-issue the revocation list'));
  };
  options.authority.onChange(quietly);
  const checkMs = options.checkMs ?? Math.min(options.lifetimeMs / 10, 600_000);
  const timer = setInterval(quietly, checkMs).unref();
  return {
    ensure,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await queue.catch(() => {});
    },
  };
}
