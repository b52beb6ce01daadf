/**
 * `wasi:io/poll`, fully synchronous and in-thread.
 *
 * A pollable wraps a source that is either ready now, ready at a known monotonic instant
 * (timers), or able to wait for itself (`waitUntil`, e.g. a future sync bridge). Waiting
 * for time blocks the thread on `Atomics.wait` over a private SharedArrayBuffer: nothing
 * else ever notifies it, so it sleeps exactly until the timeout, without burning CPU.
 */

import { checkWait, waitSlice } from '../blocking-wait.js';

export interface PollableSource {
  ready(): boolean;
  /** The `process.hrtime.bigint()` instant at which the source becomes ready by itself. */
  readonly readyAt?: bigint;
  /** Blocks until ready or until the hrtime instant `deadline` (undefined: no limit). */
  waitUntil?(deadline: bigint | undefined): void;
}

const ALWAYS_READY: PollableSource = { ready: () => true };

/** Longest single wait on an outside source when a poll list holds several of them. */
const EXTERNAL_SLICE_NS = 10_000_000n;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps the current thread until the hrtime instant `deadline`. */
export function sleepUntil(deadline: bigint): void {
  for (;;) {
    const remaining = deadline - process.hrtime.bigint();
    if (remaining <= 0n) return;
    // Atomics.wait takes milliseconds; rounding up avoids a spin of zero-length waits.
    Atomics.wait(sleepCell, 0, 0, waitSlice(Math.ceil(Number(remaining) / 1e6)));
    checkWait();
  }
}

export class Pollable {
  readonly #source: PollableSource;

  constructor(source: PollableSource = ALWAYS_READY) {
    this.#source = source;
  }

  ready(): boolean {
    return this.#source.ready();
  }

  block(): void {
    poll([this]);
  }

  /** @internal the poll loop needs the source's timing hints. */
  static sourceOf(pollable: Pollable): PollableSource {
    return pollable.#source;
  }
}

/** A pollable that is ready immediately (files, stdout, the empty stdin). */
export function readyPollable(): Pollable {
  return new Pollable(ALWAYS_READY);
}

/** A pollable that becomes ready at the hrtime instant `at`. */
export function timerPollable(at: bigint): Pollable {
  return new Pollable({ ready: () => process.hrtime.bigint() >= at, readyAt: at });
}

function readyIndices(list: readonly Pollable[]): Uint32Array {
  const ready: number[] = [];
  list.forEach((p, i) => {
    if (p.ready()) ready.push(i);
  });
  return Uint32Array.from(ready);
}

/**
 * Returns the indices of the ready pollables, blocking until at least one is ready.
 * A list that could never become ready (no timer, no source able to wait) traps instead of
 * hanging the thread forever.
 */
export function poll(list: readonly Pollable[]): Uint32Array {
  if (!Array.isArray(list) || list.length === 0) throw new Error('poll: the pollable list must not be empty');
  if (list.length > 0xffff_ffff) throw new Error('poll: the pollable list is too long');
  for (const p of list) {
    if (!(p instanceof Pollable)) throw new TypeError('poll: not a pollable');
  }
  for (;;) {
    const ready = readyIndices(list);
    if (ready.length > 0) return ready;

    const sources = list.map((p) => Pollable.sourceOf(p));
    let deadline: bigint | undefined;
    for (const s of sources) {
      if (s.readyAt !== undefined && (deadline === undefined || s.readyAt < deadline)) deadline = s.readyAt;
    }
    const waiters = sources.filter((s) => s.waitUntil !== undefined);
    if (waiters.length === 0) {
      if (deadline === undefined) throw new Error('poll: no pollable in the list can ever become ready');
      sleepUntil(deadline);
    } else if (waiters.length === 1) {
      waiters[0]!.waitUntil!(deadline);
    } else {
      // Several outside sources cannot be waited on together: take turns in bounded slices.
      for (const w of waiters) {
        const slice = process.hrtime.bigint() + EXTERNAL_SLICE_NS;
        w.waitUntil!(deadline !== undefined && deadline < slice ? deadline : slice);
        if (w.ready()) break;
      }
    }
  }
}
