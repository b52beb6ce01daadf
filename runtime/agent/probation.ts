import type { RollbackReason } from '../../wire/margo/status.js';
import type { AppSupervisor } from '../supervisor.js';

/** How a version that replaced another is watched before it counts as good (`probation` in the agent config). */
export interface ProbationSettings {
  /** The health window after an update (ms); 0 turns last-known-good off. */
  windowMs: number;
  /** This many restarts within the window is a restart storm: the update is undone. */
  maxRestarts: number;
}

export const DEFAULT_PROBATION: ProbationSettings = { windowMs: 60_000, maxRestarts: 3 };

export interface ProbationVerdict {
  reason: RollbackReason;
  restarts: number;
  /** Why the last instance ended, when one did. */
  lastStop: string | undefined;
}

export interface ProbationHooks {
  failed(verdict: ProbationVerdict): void;
  passed(): void;
}

/**
 * Watches an app that has just replaced an earlier version, for one health window: a first
 * instance that did not come up, or `maxRestarts` restarts before the window ends, fails it (once);
 * a window that ends quietly passes it. Returns the cancel function (the app was replaced or
 * removed meanwhile, or the agent stops).
 */
export function watchProbation(supervisor: AppSupervisor, settings: ProbationSettings, hooks: ProbationHooks): () => void {
  let done = false;
  const finish = (): void => {
    done = true;
    clearTimeout(timer);
    supervisor.off('stopped', onStopped);
  };
  const fail = (reason: RollbackReason): void => {
    if (done) return;
    finish();
    const status = supervisor.status();
    hooks.failed({ reason, restarts: status.restarts, lastStop: status.lastStop && `${status.lastStop.reason}: ${status.lastStop.message}` });
  };
  let restarts = 0;
  const onStopped = (report: { restartInMs: number | undefined }): void => {
    // A stop without a restart is the runtime's own (replaced, removed): not the app's fault.
    if (report.restartInMs === undefined) return;
    restarts++;
    if (restarts >= settings.maxRestarts) fail('restart-storm');
  };
  const timer = setTimeout(() => {
    if (done) return;
    finish();
    hooks.passed();
  }, settings.windowMs);
  timer.unref?.();
  supervisor.on('stopped', onStopped);
  // start() resolved with its first instance in back-off: the start check failed already.
  if (supervisor.status().state === 'backoff') queueMicrotask(() => fail('start-failed'));
  return finish;
}
