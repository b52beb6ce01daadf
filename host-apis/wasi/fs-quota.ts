/**
 * The quota of one app's data directory: the sum of its regular files' sizes, and the number
 * of names in it (files, directories, links), so that an app can neither fill the disk nor
 * exhaust the host's inodes with empty files. Both are measured once when the host is
 * created and then kept as running totals by every call that goes through the host.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fsFail } from './fs-errors.js';

/** Names an app's directory may hold when the grant does not say: generous, but finite. */
export const DEFAULT_MAX_ENTRIES = 100_000;

export interface DirectoryUsage {
  bytes: number;
  entries: number;
}

function checkLimit(name: string, limit: number | undefined): void {
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(limit)}`);
  }
}

export class DiskQuota {
  readonly limit: number | undefined;
  readonly entryLimit: number;
  #used: number;
  #entries: number;

  constructor(limit: number | undefined, usage: DirectoryUsage, entryLimit: number = DEFAULT_MAX_ENTRIES) {
    checkLimit('quotaBytes', limit);
    checkLimit('maxEntries', entryLimit);
    this.limit = limit;
    this.entryLimit = entryLimit;
    this.#used = usage.bytes;
    this.#entries = usage.entries;
  }

  get used(): number {
    return this.#used;
  }

  get entries(): number {
    return this.#entries;
  }

  /** Refuses (`insufficient-space`) a growth of `delta` bytes that would pass the limit. */
  ensureRoom(delta: number): void {
    if (delta > 0 && this.limit !== undefined && this.#used + delta > this.limit) fsFail('insufficient-space');
  }

  /** Records a change that has happened (negative when space was freed). */
  record(delta: number): void {
    this.#used = Math.max(0, this.#used + delta);
  }

  /** Refuses (`insufficient-space`) one more name once the directory holds `entryLimit`. */
  ensureEntryRoom(): void {
    if (this.#entries + 1 > this.entryLimit) fsFail('insufficient-space');
  }

  recordEntries(delta: number): void {
    this.#entries = Math.max(0, this.#entries + delta);
  }
}

/** Size of the regular files below `dir` and the number of names, not following links. */
export function measureDirectory(dir: string): DirectoryUsage {
  const usage: DirectoryUsage = { bytes: 0, entries: 0 };
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      usage.entries += 1;
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) usage.bytes += lstatSync(path).size;
    }
  }
  return usage;
}
