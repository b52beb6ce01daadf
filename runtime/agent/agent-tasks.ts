import { errorCode, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { Backoff, pause, type BackoffSettings } from './backoff.js';

/**
 * The agent's background work: each task runs until the agent stops, a failure of one is logged
 * and does not end the others, and `stop()` aborts them all and waits for them to end.
 */
export class AgentTasks {
  private readonly controller = new AbortController();
  private readonly running: Promise<void>[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly backoff: BackoffSettings,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  run(name: string, task: () => Promise<void>): void {
    this.running.push(
      task().catch((err: unknown) => {
        if (!this.signal.aborted) this.logger.error({ task: name, code: errorCode(err, 'unexpected'), err: errorMessage(err) }, 'agent task ended');
      }),
    );
  }

  /** Runs `once` until it succeeds or the agent stops, backing off between failures. */
  async retrying(what: string, once: () => Promise<void>): Promise<void> {
    const backoff = new Backoff(this.backoff);
    while (!this.signal.aborted) {
      try {
        return await once();
      } catch (err) {
        const delay = backoff.next(err);
        this.logger.warn({ task: what, code: errorCode(err, 'network'), err: errorMessage(err), retryInMs: delay }, `${what} failed; will retry`);
        await pause(delay, this.signal);
      }
    }
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await Promise.all(this.running);
  }
}
