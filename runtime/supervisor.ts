import { EventEmitter } from 'node:events';
import type { AppAccount, AppUsage } from './accounting/app-account.js';
import type { CompiledComponent } from './engine/engine.js';
import type { InvokeOutcome, StopReport } from './sandbox/protocol.js';
import type { AppSpec, Sandbox, SandboxFactory, SandboxHooks } from './sandbox/sandbox.js';
import { hasEntryPoint } from './sandbox/entry-point.js';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** An instance that stayed up this long resets the back-off to its initial delay. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 60_000, factor: 2, resetAfterMs: 30_000 };

export type AppState = 'starting' | 'running' | 'backoff' | 'stopped';

export interface AppStatus {
  state: AppState;
  restarts: number;
  lastStop: StopReport | undefined;
  /** When the next start is due, while in back-off. */
  nextStartAt: number | undefined;
}

export interface SupervisorEvents {
  state: [AppState];
  /** An instance ended; `restartInMs` is undefined when it will not be restarted. */
  stopped: [StopReport & { restartInMs: number | undefined }];
}

/**
 * Keeps one app running: starts its sandbox, calls its entry point if it has one, and restarts
 * it with exponential back-off after a trap, a deadline, a crash or an error result from its
 * entry point. Other apps are untouched: each has its own supervisor and sandbox.
 */
export class AppSupervisor extends EventEmitter<SupervisorEvents> {
  private sandbox: Sandbox | undefined;
  private state: AppState = 'stopped';
  private restarts = 0;
  private delayMs: number;
  private lastStop: StopReport | undefined;
  private nextStartAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private wanted = false;

  constructor(
    private readonly compiled: CompiledComponent,
    readonly spec: AppSpec,
    private readonly factory: SandboxFactory,
    private readonly hooks: SandboxHooks,
    private readonly backoff: BackoffPolicy = DEFAULT_BACKOFF,
    /** Accounting (docs/accounting.md): where this app's usage adds up. */
    private readonly account?: AppAccount,
  ) {
    super();
    this.delayMs = backoff.initialMs;
  }

  status(): AppStatus {
    return { state: this.state, restarts: this.restarts, lastStop: this.lastStop, nextStartAt: this.nextStartAt };
  }

  /** What the app has used over all its instances; undefined when the runtime keeps no accounts. */
  usage(): AppUsage | undefined {
    const usage = this.account?.snapshot();
    return usage && { ...usage, restarts: this.restarts };
  }

  get currentSandbox(): Sandbox | undefined {
    return this.sandbox;
  }

  /** Starts the app and resolves once its first instance is up (or has failed and is in back-off). */
  async start(): Promise<AppStatus> {
    this.wanted = true;
    await this.launch();
    return this.status();
  }

  async invoke(fn: string, args: unknown[] = []): Promise<InvokeOutcome> {
    if (!this.sandbox || this.state !== 'running') {
      return { ok: false, failure: { kind: 'sandbox-stopped', reason: this.lastStop?.reason ?? 'stopped', message: `the app is ${this.state}` } };
    }
    return this.sandbox.invoke(fn, args);
  }

  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.timer);
    this.nextStartAt = undefined;
    const sandbox = this.sandbox;
    this.sandbox = undefined;
    this.setState('stopped');
    if (sandbox) {
      const report: StopReport = { reason: 'stopped', message: 'stopped by the runtime', at: Date.now() };
      this.account?.recordStop(report, this.spec.limits.cpuDeadlineMs);
      // Accounting: a requested stop is reported too, so the app's final usage gets logged.
      this.emit('stopped', { ...report, restartInMs: undefined });
    }
    await sandbox?.stop();
  }

  private setState(state: AppState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private async launch(): Promise<void> {
    if (!this.wanted) return;
    this.setState('starting');
    let sandbox: Sandbox;
    try {
      // A tier that can start the entry point along with the instance saves a round trip.
      sandbox = await this.factory(this.compiled, this.spec, { ...this.hooks, runEntryPoint: true });
    } catch (err) {
      this.ended({ reason: 'load-failed', message: err instanceof Error ? err.message : String(err), at: Date.now() });
      return;
    }
    if (!this.wanted) {
      await sandbox.stop();
      return;
    }
    this.sandbox = sandbox;
    this.startedAt = Date.now();
    sandbox.onStop((report) => {
      if (this.sandbox === sandbox) this.ended(report);
    });
    this.setState('running');
    if (sandbox.entryPoint || hasEntryPoint(sandbox.exports)) void this.runEntryPoint(sandbox);
  }

  /** Calls the entry point without holding up start(): a long-running `run` is normal. */
  private async runEntryPoint(sandbox: Sandbox): Promise<void> {
    const outcome = await (sandbox.entryPoint ?? sandbox.invoke('run'));
    if (!outcome.ok && outcome.failure.kind === 'app-error' && this.sandbox === sandbox) {
      // The entry point reported failure: the app is restarted as after a crash.
      this.sandbox = undefined;
      void sandbox.stop();
      this.ended({ reason: 'failed', message: `run returned an error: ${outcome.failure.message}`, at: Date.now() });
    }
  }

  private ended(report: StopReport): void {
    this.sandbox = undefined;
    this.lastStop = report;
    this.account?.recordStop(report, this.spec.limits.cpuDeadlineMs);
    if (!this.wanted || report.reason === 'stopped') {
      this.setState('stopped');
      this.emit('stopped', { ...report, restartInMs: undefined });
      return;
    }
    if (this.startedAt && Date.now() - this.startedAt >= this.backoff.resetAfterMs) this.delayMs = this.backoff.initialMs;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.backoff.maxMs, this.delayMs * this.backoff.factor);
    this.restarts++;
    this.nextStartAt = Date.now() + delay;
    this.setState('backoff');
    this.emit('stopped', { ...report, restartInMs: delay });
    this.timer = setTimeout(() => {
      this.nextStartAt = undefined;
      void this.launch();
    }, delay);
    this.timer.unref?.();
  }
}
