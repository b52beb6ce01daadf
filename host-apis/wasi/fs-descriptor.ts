/**
 * The `descriptor` resource of `wasi:filesystem/types`.
 *
 * The classes hold no authority and may be shared by every app in a thread: each instance
 * carries its app's context (confined root, quota, mode), the directory or file it names
 * (as components below that root) and the rights it was opened with. Every method turns any
 * failure into a WASI error code; a path is always resolved by `resolveInside`.
 */
import {
  constants,
  fsyncSync,
  closeSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { DirectoryEntryStream } from './fs-directory-stream.js';
import { fsFail, guarded } from './fs-errors.js';
import type { FsContext } from './fs-context.js';
import { readAt, setSize, syncFile, toPosition, writeAt, type FileRef } from './fs-file.js';
import { resolveInside, symlinkTargetStaysInside, type ResolvedPath } from './fs-paths.js';
import { openFileStreams } from './fs-streams.js';
import {
  descriptorStatOf,
  metadataHashOf,
  utimeSeconds,
  type DescriptorFlags,
  type DescriptorStat,
  type DescriptorType,
  type MetadataHashValue,
  type NewTimestamp,
  type OpenFlags,
  type PathFlags,
} from './fs-types.js';
import type { InputStream, OutputStream } from './streams.js';

const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_DIRECTORY } = constants;

type Target = { kind: 'directory' } | { kind: 'file'; dev: number; ino: number };

export class Descriptor {
  readonly #ctx: FsContext;
  readonly #segments: readonly string[];
  readonly #target: Target;
  readonly #flags: Readonly<DescriptorFlags>;

  /** Only the filesystem host creates descriptors; the guest never can (no WIT constructor). */
  constructor(ctx: FsContext, segments: readonly string[], target: Target, flags: DescriptorFlags) {
    this.#ctx = ctx;
    this.#segments = segments;
    this.#target = target;
    this.#flags = Object.freeze({ ...flags });
  }

  static root(ctx: FsContext): Descriptor {
    const flags: DescriptorFlags = ctx.readOnly ? { read: true } : { read: true, write: true, mutateDirectory: true };
    return new Descriptor(ctx, [], { kind: 'directory' }, flags);
  }

  get #hostPath(): string {
    return resolveHost(this.#ctx, this.#segments);
  }

  #file(right?: 'read' | 'write'): FileRef {
    if (this.#target.kind !== 'file') fsFail('is-directory');
    if (right !== undefined && !this.#flags[right]) fsFail('bad-descriptor');
    return { ctx: this.#ctx, hostPath: this.#hostPath, dev: this.#target.dev, ino: this.#target.ino };
  }

  #directory(): void {
    if (this.#target.kind !== 'directory') fsFail('not-directory');
  }

  /** Changing anything below this directory needs its mutate-directory right. */
  #mutable(): void {
    this.#directory();
    if (!this.#flags.mutateDirectory) fsFail(this.#ctx.readOnly ? 'read-only' : 'not-permitted');
  }

  #resolve(path: string, follow: boolean): ResolvedPath {
    return resolveInside(this.#ctx.root, this.#segments, path, follow);
  }

  #existing(path: string, follow: boolean): ResolvedPath & { stat: NonNullable<ResolvedPath['stat']> } {
    const resolved = this.#resolve(path, follow);
    if (resolved.stat === undefined) fsFail('no-entry');
    return resolved as ResolvedPath & { stat: NonNullable<ResolvedPath['stat']> };
  }

  /** A real descriptor, not an object that merely has the prototype (jco can make those). */
  static isDescriptor(value: unknown): value is Descriptor {
    return typeof value === 'object' && value !== null && #ctx in value;
  }

  readViaStream(offset: bigint): InputStream {
    return guarded(() => openFileStreams(this.#file('read')).reader(toPosition(offset)));
  }

  writeViaStream(offset: bigint): OutputStream {
    return guarded(() => openFileStreams(this.#file('write')).writer(toPosition(offset)));
  }

  appendViaStream(): OutputStream {
    return guarded(() => openFileStreams(this.#file('write')).writer('end'));
  }

  advise(_offset: bigint, _length: bigint, _advice: string): void {
    guarded(() => this.#file());
  }

  syncData(): void {
    guarded(() => this.#sync(true));
  }

  sync(): void {
    guarded(() => this.#sync(false));
  }

  #sync(dataOnly: boolean): void {
    if (this.#target.kind === 'file') return syncFile(this.#file(), dataOnly);
    const fd = openSync(this.#hostPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  getFlags(): DescriptorFlags {
    return { ...this.#flags };
  }

  getType(): DescriptorType {
    return this.#target.kind === 'file' ? 'regular-file' : 'directory';
  }

  setSize(size: bigint): void {
    guarded(() => setSize(this.#file('write'), size));
  }

  setTimes(atime: NewTimestamp, mtime: NewTimestamp): void {
    guarded(() => {
      if (this.#target.kind === 'file') this.#file('write');
      else this.#mutable();
      setTimesOf(this.#hostPath, atime, mtime);
    });
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    return guarded(() => readAt(this.#file('read'), length, offset));
  }

  write(buffer: Uint8Array, offset: bigint): bigint {
    return guarded(() => BigInt(writeAt(this.#file('write'), buffer, offset)));
  }

  readDirectory(): DirectoryEntryStream {
    return guarded(() => {
      this.#directory();
      if (!this.#flags.read) fsFail('bad-descriptor');
      return new DirectoryEntryStream(readdirSync(this.#hostPath, { withFileTypes: true }));
    });
  }

  createDirectoryAt(path: string): void {
    guarded(() => {
      this.#mutable();
      const resolved = this.#resolve(path, false);
      if (resolved.stat !== undefined) fsFail('exist');
      this.#ctx.quota.ensureEntryRoom();
      mkdirSync(resolved.hostPath, { mode: 0o700 });
      this.#ctx.quota.recordEntries(1);
    });
  }

  stat(): DescriptorStat {
    return guarded(() => {
      const stat = lstatSync(this.#hostPath, { bigint: true });
      if (this.#target.kind === 'file' && (Number(stat.ino) !== this.#target.ino || Number(stat.dev) !== this.#target.dev)) {
        fsFail('bad-descriptor');
      }
      return descriptorStatOf(stat);
    });
  }

  statAt(pathFlags: PathFlags, path: string): DescriptorStat {
    return guarded(() => {
      this.#directory();
      const resolved = this.#existing(path, Boolean(pathFlags?.symlinkFollow));
      return descriptorStatOf(lstatSync(resolved.hostPath, { bigint: true }));
    });
  }

  setTimesAt(pathFlags: PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): void {
    guarded(() => {
      this.#mutable();
      setTimesOf(this.#existing(path, Boolean(pathFlags?.symlinkFollow)).hostPath, atime, mtime);
    });
  }

  // Hard links would let one file be counted once but reachable twice; no WASI user needs them here.
  linkAt(_oldPathFlags: PathFlags, _oldPath: string, _newDescriptor: Descriptor, _newPath: string): void {
    fsFail('unsupported');
  }

  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    return guarded(() => this.#openAt(pathFlags ?? {}, path, openFlags ?? {}, flags ?? {}));
  }

  #openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): Descriptor {
    this.#directory();
    const denied = this.#ctx.readOnly ? 'read-only' : 'not-permitted';
    if ((openFlags.create || openFlags.truncate || flags.mutateDirectory) && !this.#flags.mutateDirectory) fsFail(denied);
    if (flags.write && !this.#flags.write) fsFail(denied);
    if (flags.read && !this.#flags.read) fsFail('not-permitted');
    if (openFlags.create && openFlags.directory) fsFail('invalid');

    const resolved = this.#resolve(path, Boolean(pathFlags.symlinkFollow));
    let stat = resolved.stat;
    if (stat === undefined) {
      if (!openFlags.create) fsFail('no-entry');
      // As open(2): "name/" with O_CREAT names a directory, which open never creates.
      if (path.endsWith('/')) fsFail('is-directory');
      this.#ctx.quota.ensureEntryRoom();
      closeSync(openSync(resolved.hostPath, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_NONBLOCK, 0o600));
      this.#ctx.quota.recordEntries(1);
      stat = lstatSync(resolved.hostPath);
    } else {
      if (openFlags.create && openFlags.exclusive) fsFail('exist');
      // Only reachable without symlink-follow: opening a link itself is O_NOFOLLOW's ELOOP.
      if (stat.isSymbolicLink()) fsFail('loop');
      if (openFlags.directory && !stat.isDirectory()) fsFail('not-directory');
    }

    if (stat.isDirectory()) {
      if (flags.write || openFlags.truncate) fsFail('is-directory');
      // A directory opened below keeps the rights of the one it was opened from (as in wasmtime).
      return new Descriptor(this.#ctx, resolved.segments, { kind: 'directory' }, this.#flags);
    }
    if (!stat.isFile()) fsFail('unsupported');
    const file = new Descriptor(
      this.#ctx,
      resolved.segments,
      { kind: 'file', dev: stat.dev, ino: stat.ino },
      {
        read: Boolean(flags.read),
        write: Boolean(flags.write),
        fileIntegritySync: Boolean(flags.fileIntegritySync),
        dataIntegritySync: Boolean(flags.dataIntegritySync),
        requestedWriteSync: Boolean(flags.requestedWriteSync),
      },
    );
    if (openFlags.truncate && stat.size > 0) setSize(file.#file(), 0n);
    return file;
  }

  readlinkAt(path: string): string {
    return guarded(() => {
      this.#directory();
      const resolved = this.#existing(path, false);
      if (!resolved.stat.isSymbolicLink()) fsFail('invalid');
      return readlinkSync(resolved.hostPath, 'utf8');
    });
  }

  removeDirectoryAt(path: string): void {
    guarded(() => {
      this.#mutable();
      const resolved = this.#existing(path, false);
      if (resolved.segments.length <= this.#segments.length) fsFail('invalid');
      if (!resolved.stat.isDirectory()) fsFail('not-directory');
      rmdirSync(resolved.hostPath);
      this.#ctx.quota.recordEntries(-1);
    });
  }

  unlinkFileAt(path: string): void {
    guarded(() => {
      this.#mutable();
      const resolved = this.#existing(path, false);
      if (resolved.stat.isDirectory()) fsFail('is-directory');
      unlinkSync(resolved.hostPath);
      this.#ctx.quota.recordEntries(-1);
      if (resolved.stat.isFile() && resolved.stat.nlink === 1) this.#ctx.quota.record(-resolved.stat.size);
    });
  }

  renameAt(oldPath: string, newDescriptor: Descriptor, newPath: string): void {
    guarded(() => {
      if (!isDescriptor(newDescriptor)) fsFail('bad-descriptor');
      // Another app's descriptor can never be a rename target: different roots are different devices.
      if (newDescriptor.#ctx !== this.#ctx) fsFail('cross-device');
      this.#mutable();
      newDescriptor.#mutable();
      const from = this.#existing(oldPath, false);
      if (from.segments.length <= this.#segments.length) fsFail('invalid');
      const to = newDescriptor.#resolve(newPath, false);
      if (to.segments.length <= newDescriptor.#segments.length) fsFail('invalid');
      renameSync(from.hostPath, to.hostPath);
      const replaced = to.stat;
      if (replaced !== undefined && replaced.ino !== from.stat.ino) this.#ctx.quota.recordEntries(-1);
      if (replaced?.isFile() && replaced.nlink === 1 && replaced.ino !== from.stat.ino) {
        this.#ctx.quota.record(-replaced.size);
      }
    });
  }

  symlinkAt(oldPath: string, newPath: string): void {
    guarded(() => {
      this.#mutable();
      const resolved = this.#resolve(newPath, false);
      if (resolved.stat !== undefined) fsFail('exist');
      const linkParent = resolved.segments.slice(this.#segments.length, -1);
      if (!symlinkTargetStaysInside(linkParent, oldPath)) fsFail('not-permitted');
      this.#ctx.quota.ensureEntryRoom();
      symlinkSync(oldPath, resolved.hostPath);
      this.#ctx.quota.recordEntries(1);
    });
  }

  isSameObject(other: Descriptor): boolean {
    if (!isDescriptor(other) || other.#ctx !== this.#ctx) return false;
    try {
      const a = lstatSync(this.#hostPath);
      const b = lstatSync(other.#hostPath);
      return a.dev === b.dev && a.ino === b.ino;
    } catch {
      return false;
    }
  }

  metadataHash(): MetadataHashValue {
    return guarded(() => metadataHashOf(this.#ctx.hashKey, lstatSync(this.#hostPath)));
  }

  metadataHashAt(pathFlags: PathFlags, path: string): MetadataHashValue {
    return guarded(() => {
      this.#directory();
      const resolved = this.#existing(path, Boolean(pathFlags?.symlinkFollow));
      return metadataHashOf(this.#ctx.hashKey, resolved.stat);
    });
  }
}

function isDescriptor(value: unknown): value is Descriptor {
  return Descriptor.isDescriptor(value);
}

function resolveHost(ctx: FsContext, segments: readonly string[]): string {
  return segments.length === 0 ? ctx.root : `${ctx.root}/${segments.join('/')}`;
}

function setTimesOf(hostPath: string, atime: NewTimestamp, mtime: NewTimestamp): void {
  const current = lstatSync(hostPath, { bigint: true });
  // lutimes: never follow a link, so a link's own times change, not its target's.
  lutimesSync(hostPath, utimeSeconds(atime, current.atimeNs), utimeSeconds(mtime, current.mtimeNs));
}

export { DirectoryEntryStream };
