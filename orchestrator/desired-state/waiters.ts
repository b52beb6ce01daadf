/**
 * Devices parked on a long-poll, by device id. A wake resolves every waiter of that device; a
 * waiter costs one timer and one set entry, nothing polls.
 */
export class Waiters {
  private readonly byDevice = new Map<string, Set<() => void>>();
  /**
   * How parked polls ended since start (the metrics): woken by a change, at their deadline, or
   * cancelled (the device went away, or the state had changed before the park was needed).
   */
  readonly ended = { woken: 0, timedOut: 0, cancelled: 0 };

  /** Resolves on `wake(deviceId)`, after `ms`, or when `signal` aborts, whichever is first. */
  wait(deviceId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.byDevice.get(deviceId);
      if (!set) this.byDevice.set(deviceId, (set = new Set()));
      const end = (how: keyof Waiters['ended']) => (): void => {
        if (finished) return;
        finished = true;
        this.ended[how]++;
        clearTimeout(timer);
        signal?.removeEventListener('abort', cancelled);
        const s = this.byDevice.get(deviceId);
        s?.delete(woken);
        if (s?.size === 0) this.byDevice.delete(deviceId);
        resolve();
      };
      let finished = false;
      const woken = end('woken');
      const cancelled = end('cancelled');
      const timer = setTimeout(end('timedOut'), ms);
      set.add(woken);
      if (signal?.aborted) cancelled();
      else signal?.addEventListener('abort', cancelled, { once: true });
    });
  }

  wake(deviceId: string): void {
    const set = this.byDevice.get(deviceId);
    if (set) for (const done of [...set]) done();
  }

  has(deviceId: string): boolean {
    return this.byDevice.has(deviceId);
  }

  wakeAll(): void {
    for (const id of [...this.byDevice.keys()]) this.wake(id);
  }

  get waiting(): number {
    let n = 0;
    for (const s of this.byDevice.values()) n += s.size;
    return n;
  }
}
