import { monotonicMs, type InvokeOutcome } from './protocol.js';

/** A call sent to a sandbox thread and not yet answered. */
export interface QueuedCall {
  slot: number;
  id: number;
  fn: string;
  deadlineMs: number;
  /** An entry point started with its instance: it runs once the instance is ready, not before. */
  afterLoad: boolean;
  /** The worker cannot start a call before it was sent. */
  sentAt: number;
  timer?: NodeJS.Timeout;
  settled: Promise<InvokeOutcome>;
  resolve: (outcome: InvokeOutcome) => void;
}

/**
 * The calls a sandbox thread has been sent, in the order it runs them (one at a time), and their
 * deadlines. Calls are sent without waiting for the one before, so a call's deadline cannot run
 * from when it was sent: it runs from when the worker became free for it — the call before it
 * ended, or its instance became ready — as the worker's messages say (on the monotonic clock
 * both threads read), or from when it was sent, if that was later.
 */
export class CallQueue {
  private readonly calls: QueuedCall[] = [];
  private nextId = 1;

  constructor(private readonly onDeadline: (call: QueuedCall) => void) {}

  /** A call sent now; with none before it, it is running now and so is its deadline. */
  add(slot: number, fn: string, deadlineMs: number, afterLoad = false): QueuedCall {
    let resolve!: (outcome: InvokeOutcome) => void;
    const settled = new Promise<InvokeOutcome>((r) => (resolve = r));
    const call: QueuedCall = { slot, id: this.nextId++, fn, deadlineMs, afterLoad, sentAt: monotonicMs(), settled, resolve };
    this.calls.push(call);
    if (this.calls.length === 1 && !afterLoad) this.startDeadline(call, call.sentAt);
    return call;
  }

  /** The entry point sent along with `slot`'s load, while it waits for or runs in its instance. */
  entryOf(slot: number): QueuedCall | undefined {
    return this.calls.find((c) => c.afterLoad && c.slot === slot);
  }

  /** The worker started an entry point (the call queued with its load) at `at`. */
  entryStarted(call: QueuedCall, at: number): void {
    this.startDeadline(call, at);
  }

  /** Forgets an entry point that will not run; the worker was free for the next call at `freeAt`. */
  drop(call: QueuedCall, freeAt: number): void {
    const index = this.calls.indexOf(call);
    if (index === -1) return;
    this.calls.splice(index, 1);
    call.resolve({ ok: false, failure: { kind: 'sandbox-stopped', reason: 'stopped', message: 'the app is not loaded' } });
    if (index === 0) this.next(freeAt);
  }

  /** Call `id` ended at `endedAt`: removes it and starts the next one's deadline. */
  finish(id: number, endedAt: number): QueuedCall | undefined {
    const index = this.calls.findIndex((c) => c.id === id);
    if (index === -1) return undefined;
    const [call] = this.calls.splice(index, 1) as [QueuedCall];
    clearTimeout(call.timer);
    if (index === 0) this.next(endedAt);
    return call;
  }

  /** The call the thread runs now (calls run in the order they were sent), if any. */
  running(): QueuedCall | undefined {
    return this.calls[0];
  }

  /** Every call still queued, taken off (the thread ended). */
  takeAll(): QueuedCall[] {
    const calls = this.calls.splice(0);
    for (const call of calls) clearTimeout(call.timer);
    return calls;
  }

  private next(freeAt: number): void {
    const next = this.calls[0];
    if (next && !next.timer && !next.afterLoad) this.startDeadline(next, freeAt);
  }

  private startDeadline(call: QueuedCall, freeAt: number): void {
    const startedAt = Math.max(freeAt, call.sentAt);
    const left = Math.min(call.deadlineMs, Math.max(0, call.deadlineMs - (monotonicMs() - startedAt)));
    call.timer = setTimeout(() => this.onDeadline(call), left);
  }
}
