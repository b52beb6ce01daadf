/**
 * The byte quota of one app's data directory: the sum of its regular files' sizes, measured
 * once when the host is created and then kept as a running total by every write, truncate,
 * unlink and rename that goes through the host.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fsFail } from './fs-errors.js';

export class DiskQuota {
  readonly limit: number | undefined;
  #used: number;

  constructor(limit: number | undefined, used: number) {
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw new RangeError(`quotaBytes must be a non-negative integer, got ${String(limit)}`);
    }
    this.limit = limit;
    this.#used = used;
  }

  get used(): number {
    return this.#used;
  }

  /** Refuses (`insufficient-space`) a growth of `delta` bytes that would pass the limit. */
  ensureRoom(delta: number): void {
    if (delta > 0 && this.limit !== undefined && this.#used + delta > this.limit) fsFail('insufficient-space');
  }

  /** Records a change that has happened (negative when space was freed). */
  record(delta: number): void {
    this.#used = Math.max(0, this.#used + delta);
  }
}

/** Total size of the regular files below `dir`, not following links. */
export function measureDirectoryBytes(dir: string): number {
  let total = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) total += lstatSync(path).size;
    }
  }
  return total;
}
