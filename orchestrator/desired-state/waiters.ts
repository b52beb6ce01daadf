/**
 * Devices parked on a long-poll, by device id. A wake resolves every waiter of that device; a
 * waiter costs one timer and one set entry, nothing polls.
 */
export class Waiters {
  private readonly byDevice = new Map<string, Set<() => void>>();

  /** Resolves on `wake(deviceId)`, after `ms`, or when `signal` aborts, whichever is first. */
  wait(deviceId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.byDevice.get(deviceId);
      if (!set) this.byDevice.set(deviceId, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        const s = this.byDevice.get(deviceId);
        s?.delete(done);
        if (s?.size === 0) this.byDevice.delete(deviceId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
      if (signal?.aborted) done();
      else signal?.addEventListener('abort', done, { once: true });
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
