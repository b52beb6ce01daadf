import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallQueue, type QueuedCall } from '../../runtime/sandbox/call-queue.js';
import { monotonicMs } from '../../runtime/sandbox/protocol.js';

/** Deadlines of calls sent to a sandbox thread without waiting, on a fake clock. */
describe('call queue deadlines', () => {
  let expired: string[];
  let queue: CallQueue;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'hrtime'] });
    expired = [];
    queue = new CallQueue((call: QueuedCall) => expired.push(call.fn));
  });
  afterEach(() => vi.useRealTimers());

  it('a call with none before it runs its deadline from when it was sent', () => {
    queue.add(1, 'a', 100);
    vi.advanceTimersByTime(99);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
  });

  it('a call sent behind another starts its deadline when the worker became free for it', () => {
    const a = queue.add(1, 'a', 1_000);
    queue.add(2, 'b', 100);
    vi.advanceTimersByTime(500);
    expect(expired).toEqual([]); // b has not started: a is still running
    // a ended 30 ms ago, by the worker's clock; b has been running since then.
    queue.finish(a.id, monotonicMs() - 30);
    vi.advanceTimersByTime(69);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['b']);
  });

  it('never counts from before a call was sent', () => {
    const a = queue.add(1, 'a', 1_000);
    vi.advanceTimersByTime(200);
    const endedBeforeBWasSent = monotonicMs();
    vi.advanceTimersByTime(50);
    queue.add(2, 'b', 100);
    queue.finish(a.id, endedBeforeBWasSent);
    vi.advanceTimersByTime(99);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['b']);
  });

  it('an entry point sent with its load runs its deadline from the ready instance; calls behind it wait', () => {
    const entry = queue.add(1, 'run', 100, true);
    queue.add(2, 'b', 50);
    vi.advanceTimersByTime(1_000); // instantiating takes as long as it takes
    expect(expired).toEqual([]);
    queue.entryStarted(entry, monotonicMs());
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(['run']);
  });

  it('an entry point that will not run is settled, and the call behind it goes on', async () => {
    const entry = queue.add(1, 'run', 100, true);
    queue.add(2, 'b', 50);
    queue.drop(entry, monotonicMs());
    expect(await entry.settled).toEqual({ ok: false, failure: { kind: 'sandbox-stopped', reason: 'stopped', message: 'the app is not loaded' } });
    vi.advanceTimersByTime(50);
    expect(expired).toEqual(['b']);
  });

  it('an answered call never expires, and an unknown answer changes nothing', () => {
    const a = queue.add(1, 'a', 100);
    expect(queue.finish(a.id + 99, monotonicMs())).toBeUndefined();
    expect(queue.finish(a.id, monotonicMs())).toBe(a);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual([]);
    expect(queue.takeAll()).toEqual([]);
  });
});
