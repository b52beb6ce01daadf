import { join } from 'node:path';
import { errorCode, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';
import type { DeploymentState } from '../../wire/margo/status.js';
import { Backoff, pause } from './backoff.js';
import { answerError, type ControlPlaneClient } from './control-plane-client.js';
import { wellFormedJson } from '../../common/text.js';

/** One Margo DeploymentStatusManifest waiting to be sent (plus Berth's extension member). */
export interface StatusReport {
  deploymentId: string;
  deviceId: string;
  adoptedManifestVersion: number;
  status: { state: DeploymentState; error?: { code?: string; source?: string; message?: string } };
  components?: { name: string; state: DeploymentState; error?: { code?: string; source?: string; message?: string } }[];
  'x-berth-extensions'?: Record<string, unknown>;
}

interface QueueFile {
  nextSeq: number;
  entries: { seq: number; report: StatusReport }[];
  /** Last state enqueued per deployment, so a restart does not report the same thing again. */
  last: Record<string, { state: DeploymentState; document: string; errorCode?: string }>;
}

/**
 * Deployment status reports, queued on disk (`<data>/status-queue.json`, replaced atomically on
 * every change) and sent one at a time, oldest first, whenever the control plane answers. An
 * entry leaves the queue only after the control plane accepted it (2xx) or refused it for good
 * (4xx other than 408/429: e.g. `deployment.not_placed` after a removal), so an outage or a
 * restart loses nothing; a report is re-sent only if the agent stopped between the control
 * plane's answer and the file update, and reports are idempotent (the same state again).
 */
export class StatusQueue {
  private file: QueueFile = { nextSeq: 1, entries: [], last: {} };
  private wake: (() => void) | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly path: string;

  constructor(
    dataDir: string,
    private readonly logger: Logger,
  ) {
    this.path = join(dataDir, 'status-queue.json');
  }

  async load(): Promise<void> {
    const text = await readTextFile(this.path);
    if (!text) return;
    try {
      this.file = JSON.parse(text) as QueueFile;
    } catch {
      this.logger.warn({ path: this.path }, 'status queue unreadable; starting an empty one');
    }
  }

  pending(): readonly StatusReport[] {
    return this.file.entries.map((e) => e.report);
  }

  /**
   * Queues a report unless it is no news: the same state (and error code) for the same
   * deployment document as the last one queued. `document` is the digest of the
   * ApplicationDeployment the report is about; a new manifest version that leaves the document
   * alone changes nothing for that deployment.
   */
  async enqueue(report: StatusReport, document: string): Promise<boolean> {
    const last = this.file.last[report.deploymentId];
    const code = report.status.error?.code;
    if (last && last.document === document && last.state === report.status.state && last.errorCode === code) return false;
    // "installing" again for a document already reported on is a retry or a restart's restore:
    // only its outcome is news.
    if (last && last.document === document && report.status.state === 'installing') return false;
    this.file.last[report.deploymentId] = { state: report.status.state, document, ...(code ? { errorCode: code } : {}) };
    // Well-formed text only: a lone surrogate (a guest's, or a careless cut) must not make the
    // report one the control plane cannot store.
    this.file.entries.push({ seq: this.file.nextSeq++, report: wellFormedJson(report) });
    try {
      await this.persist();
    } catch (err) {
      // A full disk: the report is in memory and is sent all the same (the sender writes the file
      // once it can); only a restart before then would lose it.
      this.logger.warn({ deploymentId: report.deploymentId, err: errorMessage(err) }, 'status report kept in memory; the queue file could not be written');
    }
    this.wake?.();
    return true;
  }

  private persist(): Promise<void> {
    const snapshot = JSON.stringify(this.file) + '\n';
    // Each write starts after the one before whether that one failed or not: a failed write (a
    // full disk) must not reject every later one, or the file would stay at its old content for
    // the rest of the process and a restart would send reports the control plane already has.
    this.writing = this.writing.catch(() => {}).then(() => writePrivateFile(this.path, snapshot));
    return this.writing;
  }

  /**
   * Writes the file, again and again with back-off until it is written (a full disk freed): an
   * entry gone from memory but still in the file would be sent again after a restart, and
   * nothing else writes the file until the next report is queued, which may be never.
   */
  private async saveUntilWritten(backoff: Backoff, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.persist();
        backoff.reset();
        return;
      } catch (err) {
        const delay = backoff.next(err);
        this.logger.warn(
          { code: errorCode(err, 'io'), err: errorMessage(err), retryInMs: delay, queued: this.file.entries.length },
          'status queue not saved; will retry',
        );
        await pause(delay, signal);
      }
    }
  }

  /** Sends until `signal` aborts; waits for new entries when empty, backs off when the control plane fails. */
  async run(client: ControlPlaneClient, backoff: Backoff, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const head = this.file.entries[0];
      if (!head) {
        // Woken by a new entry or by the stop; the abort listener goes either way (one per idle
        // spell would pile up on a long-lived signal).
        let onAbort: () => void = () => {};
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          onAbort = () => resolve();
          signal.addEventListener('abort', onAbort, { once: true });
        });
        signal.removeEventListener('abort', onAbort);
        this.wake = undefined;
        continue;
      }
      const about = {
        deploymentId: head.report.deploymentId,
        state: head.report.status.state,
        adoptedManifestVersion: head.report.adoptedManifestVersion,
        seq: head.seq,
      };
      try {
        this.logger.debug(about, 'sending status report');
        const answer = await client.request(`/api/v1/deployments/${encodeURIComponent(head.report.deploymentId)}/status`, {
          method: 'POST',
          json: head.report,
          idempotent: true,
          signal,
        });
        if (answer.status >= 200 && answer.status < 300) {
          this.logger.debug(about, 'status reported');
        } else if (answer.status === 403 && answer.problem?.code === 'deployment.not_placed' && ['removing', 'removed'].includes(head.report.status.state)) {
          // The control plane records reports only for placed deployments: a removal is expected to end this way.
          this.logger.debug(about, 'removal report not recorded (the deployment is no longer placed)');
        } else if (answer.status >= 400 && answer.status < 500 && answer.status !== 408 && answer.status !== 429) {
          this.logger.warn({ ...about, status: answer.status, code: answer.problem?.code }, 'status report refused by the control plane; dropped');
        } else {
          throw answerError(answer, 'status report');
        }
        this.file.entries.shift();
        backoff.reset();
        await this.saveUntilWritten(backoff, signal);
      } catch (err) {
        if (signal.aborted) return;
        const delay = backoff.next(err);
        this.logger.warn(
          { code: errorCode(err, 'network'), err: errorMessage(err), retryInMs: delay, queued: this.file.entries.length },
          'status report not delivered; will retry',
        );
        await pause(delay, signal);
      }
    }
  }
}
