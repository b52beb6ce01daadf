/**
 * Byte access to one regular file inside the sandbox.
 *
 * A file descriptor handed to the guest holds no OS file descriptor: every operation opens
 * the file (never following a link, never blocking on a FIFO), checks it is still the file
 * the guest opened (device and inode), does its work and closes it. So no OS descriptor ever
 * outlives a call, and terminating an app's worker mid-run cannot leak descriptors into the
 * shared host process, however many files the app had open.
 */
import { closeSync, constants, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync, type Stats } from 'node:fs';
import type { FsContext } from './fs-context.js';
import { fsFail } from './fs-errors.js';

const { O_RDONLY, O_RDWR, O_NOFOLLOW, O_NONBLOCK } = constants;

/** The largest single read the host performs, whatever length the guest asks for. */
const MAX_READ = 1 << 20;

export interface FileRef {
  readonly ctx: FsContext;
  readonly hostPath: string;
  readonly dev: number;
  readonly ino: number;
}

/** A guest offset or length as a safe JS integer; beyond that no real file on this host goes. */
export function toPosition(value: bigint): number {
  if (typeof value !== 'bigint' || value < 0n) fsFail('invalid');
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) fsFail('file-too-large');
  return Number(value);
}

export function withOpenFile<T>(file: FileRef, write: boolean, operation: (fd: number, stat: Stats) => T): T {
  const fd = openSync(file.hostPath, (write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.ino !== file.ino || stat.dev !== file.dev) fsFail('bad-descriptor');
    return operation(fd, stat);
  } finally {
    closeSync(fd);
  }
}

export function readAt(file: FileRef, length: bigint, offset: bigint): [Uint8Array, boolean] {
  const want = Math.min(toPosition(length), MAX_READ);
  const position = toPosition(offset);
  return withOpenFile(file, false, (fd, stat) => {
    if (position >= stat.size) return [new Uint8Array(0), true];
    const buffer = Buffer.alloc(Math.min(want, stat.size - position));
    let got = 0;
    while (got < buffer.length) {
      const n = readSync(fd, buffer, got, buffer.length - got, position + got);
      if (n === 0) break;
      got += n;
    }
    return [new Uint8Array(buffer.buffer, buffer.byteOffset, got), position + got >= stat.size];
  });
}

/** Writes at `offset` (or at the end when `offset` is 'end'), charging any growth to the quota. */
export function writeAt(file: FileRef, bytes: Uint8Array, offset: bigint | 'end'): number {
  if (!(bytes instanceof Uint8Array)) fsFail('invalid');
  return withOpenFile(file, true, (fd, stat) => {
    const position = offset === 'end' ? stat.size : toPosition(offset);
    const end = position + bytes.byteLength;
    if (end > Number.MAX_SAFE_INTEGER) fsFail('file-too-large');
    const growth = Math.max(0, end - stat.size);
    file.ctx.quota.ensureRoom(growth);
    let written = 0;
    try {
      while (written < bytes.byteLength) {
        written += writeSync(fd, bytes, written, bytes.byteLength - written, position + written);
      }
    } finally {
      file.ctx.quota.record(Math.max(0, position + written - stat.size));
    }
    return written;
  });
}

export function setSize(file: FileRef, size: bigint): void {
  const target = toPosition(size);
  withOpenFile(file, true, (fd, stat) => {
    file.ctx.quota.ensureRoom(target - stat.size);
    ftruncateSync(fd, target);
    file.ctx.quota.record(target - stat.size);
  });
}

export function syncFile(file: FileRef, dataOnly: boolean): void {
  withOpenFile(file, false, (fd) => (dataOnly ? fdatasyncSync(fd) : fsyncSync(fd)));
}
