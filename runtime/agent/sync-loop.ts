import { errorCode, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ArtifactSource } from '../../oci/source.js';
import type { AdoptedState, AdoptedStateStore } from './adopted-state.js';
import { Backoff, pause, type BackoffSettings } from './backoff.js';
import { planFromDocument, type DeploymentPlan } from './deployment-plan.js';
import { pollDesiredState, type FollowerContext } from './desired-state-follower.js';
import type { Reconciler } from './reconciler.js';

export interface SyncOptions {
  follower: FollowerContext;
  store: AdoptedStateStore;
  reconciler: Reconciler;
  source: ArtifactSource;
  deviceId: () => string;
  longPollSeconds: number;
  pollIntervalMs: number;
  backoff: BackoffSettings;
  logger: Logger;
  /** Told before a new state is applied (status reports carry its version) and once it is adopted. */
  onApplying(version: number): void;
  onAdopted(state: AdoptedState): void;
  onRefused(code: string, message: string): void;
  /** Told how each round ended (the agent's metrics): no change, a new state adopted, one refused, or an error. */
  onRound?(result: SyncRoundResult): void;
}

export type SyncRoundResult = 'unchanged' | 'adopted' | 'refused' | 'error';

/**
 * The desired-state loop: long-poll, verify, reconcile, and only then persist the adopted state
 * (so a crash mid-way re-applies it on restart rather than believing it was done). Errors back
 * off as the control plane advises, or exponentially with jitter; deployments that failed are
 * tried again with their own back-off while nothing new arrives.
 */
export async function runSync(o: SyncOptions, initial: { adopted: AdoptedState | undefined; plans: DeploymentPlan[] }, signal: AbortSignal): Promise<void> {
  let adopted = initial.adopted;
  let plans = initial.plans;
  const errors = new Backoff(o.backoff);
  const retries = new Backoff(o.backoff);
  // Retry times are on the monotonic clock: a wall clock stepped back (NTP, an RTC-less boot)
  // would otherwise put the next retry of a failed deployment hours away.
  const now = (): number => performance.now();
  let retryAt = o.reconciler.failures().size > 0 ? now() : Infinity;
  while (!signal.aborted) {
    // A round that failed part-way (say, a full disk while the adopted state was saved) may
    // leave failed deployments without a retry time: they are retried like any other.
    if (retryAt === Infinity && o.reconciler.failures().size > 0) retryAt = now() + retries.next();
    try {
      if (o.reconciler.failures().size > 0 && now() >= retryAt) {
        await o.reconciler.apply(plans, o.source);
        retryAt = o.reconciler.failures().size > 0 ? now() + retries.next() : Infinity;
        if (retryAt === Infinity) retries.reset();
      }
      const untilRetry = retryAt === Infinity ? o.longPollSeconds : Math.max(0, Math.floor((retryAt - now()) / 1000));
      const result = await pollDesiredState(
        o.follower,
        { ...(adopted ? { etag: adopted.etag } : {}), manifestVersion: adopted?.manifestVersion ?? 0 },
        Math.min(o.longPollSeconds, untilRetry),
        signal,
      );
      errors.reset();
      if (result.kind === 'unchanged') o.onRound?.('unchanged');
      if (result.kind === 'changed') {
        const s = result.state;
        const deviceId = o.deviceId();
        const next = s.documents.map((d) => planFromDocument(d, deviceId));
        o.onApplying(s.manifestVersion);
        o.logger.info(
          { manifestVersion: s.manifestVersion, deployments: next.map((p) => `${p.deploymentId}=${p.app}@${p.version}`) },
          'new desired state verified; applying',
        );
        await o.reconciler.apply(next, o.source);
        plans = next;
        adopted = {
          deviceId,
          manifestVersion: s.manifestVersion,
          etag: s.etag,
          manifestDigest: s.manifestDigest,
          deployments: s.documents.map((d) => ({ deploymentId: d.deploymentId, digest: d.digest })),
          adoptedAt: new Date().toISOString(),
        };
        await o.store.save(adopted);
        o.onAdopted(adopted);
        o.onRound?.('adopted');
        await o.reconciler.collectGarbage(next);
        retries.reset();
        retryAt = o.reconciler.failures().size > 0 ? now() + retries.next() : Infinity;
      }
      if (o.pollIntervalMs > 0) await pause(o.pollIntervalMs, signal);
    } catch (err) {
      if (signal.aborted) return;
      const code = errorCode(err, 'network');
      const refused = code.startsWith('desired_state.') || code.startsWith('agent.');
      if (refused) o.onRefused(code, errorMessage(err));
      o.onRound?.(refused ? 'refused' : 'error');
      const delay = errors.next(err);
      o.logger.warn(
        { code, err: errorMessage(err), retryInMs: delay, adoptedVersion: adopted?.manifestVersion ?? 0 },
        'desired state not updated; keeping the adopted state',
      );
      await pause(delay, signal);
    }
  }
}
