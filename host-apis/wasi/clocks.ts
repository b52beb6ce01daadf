/**
 * `wasi:clocks/wall-clock` and `wasi:clocks/monotonic-clock` for one app.
 *
 * The monotonic clock counts from the moment the host was created, not from the host's boot,
 * so an app learns nothing about the machine's uptime. Its pollables sleep on Atomics.wait.
 */
import { timerPollable, type Pollable } from './poll.js';
import type { Datetime } from './fs-types.js';

export interface ClocksHost {
  'wasi:clocks/wall-clock': { now(): Datetime; resolution(): Datetime };
  'wasi:clocks/monotonic-clock': {
    now(): bigint;
    resolution(): bigint;
    subscribeInstant(when: bigint): Pollable;
    subscribeDuration(duration: bigint): Pollable;
  };
}

function checkU64(value: bigint, what: string): bigint {
  if (typeof value !== 'bigint' || value < 0n) throw new TypeError(`${what} must be a u64`);
  return value;
}

export function createClocksHost(): ClocksHost {
  const origin = process.hrtime.bigint();
  const elapsed = (): bigint => process.hrtime.bigint() - origin;
  return {
    'wasi:clocks/wall-clock': {
      now() {
        const ms = Date.now();
        return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1_000_000 };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    },
    'wasi:clocks/monotonic-clock': {
      now: elapsed,
      resolution: () => 1n,
      subscribeInstant: (when) => timerPollable(origin + checkU64(when, 'instant')),
      subscribeDuration: (duration) => timerPollable(process.hrtime.bigint() + checkU64(duration, 'duration')),
    },
  };
}
