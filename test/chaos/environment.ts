import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the chaos test needs from the machine beyond Node: a small file system per device (a
 * tmpfs of a few MiB, so "disk full" is the kernel's ENOSPC and not a simulation) and a device
 * clock that can be moved (libfaketime, Debian package `faketime`, preloaded into the agent).
 * Either may be missing (not root, no libfaketime): the test then says so and leaves that
 * fault out rather than fake it.
 */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((p) => existsSync(p));

export const libfaketime = (): string | undefined => LIBFAKETIME;

/**
 * The environment of an agent whose clock follows `offsetFile` ("+0", later "+1h"): libfaketime
 * reads the file again every second. The monotonic clock is left alone, so timers and
 * back-off behave; only wall-clock time (Date, certificates, signed statements) moves.
 */
export function skewableClockEnv(offsetFile: string): NodeJS.ProcessEnv {
  if (!LIBFAKETIME) return process.env;
  if (!existsSync(offsetFile)) writeFileSync(offsetFile, '+0\n');
  return { ...process.env, LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: offsetFile, FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

/** Mounts a tmpfs of `mib` MiB on `dir`; false when this process may not mount (not root, no CAP_SYS_ADMIN). */
export function mountSmallDisk(dir: string, mib: number): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  } catch {
    // not mounted
  }
}

/** Writes `file` until the file system says ENOSPC; returns the bytes written. */
export function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024, 0x5a);
  let written = 0;
  try {
    for (let i = 0; i < 1 << 16; i++) written += writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // Fill the last partial block too.
    for (let size = block.length >> 1; size >= 512; size >>= 1) {
      try {
        written += writeSync(fd, block, 0, size);
      } catch {
        // smaller next
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

export function freeDisk(file: string): void {
  rmSync(file, { force: true });
}

export const filler = (mountDir: string): string => join(mountDir, 'filler');
