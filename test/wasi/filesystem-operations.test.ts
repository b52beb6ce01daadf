import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFilesystemHost, filesystemErrorCode } from '../../host-apis/wasi/filesystem.js';
import type { Descriptor } from '../../host-apis/wasi/fs-descriptor.js';
import type { IoError } from '../../host-apis/wasi/streams.js';
import { toFilesystemErrorCode } from '../../host-apis/wasi/fs-errors.js';
import { errOf, tempDirs } from './helpers.js';

const dirs = tempDirs();
let dataDir: string;

const follow = { symlinkFollow: true };
const rw = { read: true, write: true };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function openRoot(options: { quotaBytes?: number; maxEntries?: number } = {}): Descriptor {
  const host = createFilesystemHost({ hostDir: dataDir, guestPath: '/data', ...options });
  return (host['wasi:filesystem/preopens'].getDirectories() as [[Descriptor, string]])[0][0];
}

beforeEach(() => {
  dataDir = dirs.make('ops');
});
afterEach(() => dirs.cleanup());

describe('files', () => {
  it('creates, writes, reads, stats and truncates a file', () => {
    const root = openRoot();
    const file = root.openAt(follow, 'notes.txt', { create: true }, rw);
    expect(file.write(enc('hello world'), 0n)).toBe(11n);
    expect(file.read(5n, 6n)).toEqual([enc('world'), true]);
    expect(file.read(5n, 0n)).toEqual([enc('hello'), false]);
    expect(file.read(5n, 100n)).toEqual([new Uint8Array(0), true]);
    const stat = file.stat();
    expect(stat.type).toBe('regular-file');
    expect(stat.size).toBe(11n);
    expect(stat.linkCount).toBe(1n);
    expect(typeof stat.dataModificationTimestamp?.seconds).toBe('bigint');
    file.setSize(5n);
    expect(readFileSync(join(dataDir, 'notes.txt'), 'utf8')).toBe('hello');
    expect(statSync(join(dataDir, 'notes.txt')).mode & 0o777).toBe(0o600);
    root.openAt(follow, 'notes.txt', { truncate: true }, rw);
    expect(readFileSync(join(dataDir, 'notes.txt'), 'utf8')).toBe('');
  });

  it('honours create, exclusive and directory open flags', () => {
    const root = openRoot();
    expect(errOf(() => root.openAt(follow, 'missing', {}, { read: true }))).toBe('no-entry');
    root.openAt(follow, 'f', { create: true, exclusive: true }, rw);
    expect(errOf(() => root.openAt(follow, 'f', { create: true, exclusive: true }, rw))).toBe('exist');
    expect(errOf(() => root.openAt(follow, 'f', { directory: true }, { read: true }))).toBe('not-directory');
    expect(errOf(() => root.openAt(follow, 'd', { create: true, directory: true }, { read: true }))).toBe('invalid');
    root.createDirectoryAt('d');
    expect(errOf(() => root.openAt(follow, 'd', {}, { write: true }))).toBe('is-directory');
    expect(errOf(() => root.openAt(follow, 'f/x', {}, { read: true }))).toBe('not-directory');
    expect(errOf(() => root.openAt(follow, 'f/', {}, { read: true }))).toBe('not-directory');
    expect(errOf(() => root.openAt(follow, 'g/', { create: true }, rw))).toBe('is-directory');
    expect(existsSync(join(dataDir, 'g'))).toBe(false);
    root.createDirectoryAt('e/');
    expect(statSync(join(dataDir, 'e')).isDirectory()).toBe(true);
  });

  it('checks the rights of the descriptor used', () => {
    const root = openRoot();
    writeFileSync(join(dataDir, 'f'), 'abc');
    const readOnlyFile = root.openAt(follow, 'f', {}, { read: true });
    expect(errOf(() => readOnlyFile.write(enc('x'), 0n))).toBe('bad-descriptor');
    expect(errOf(() => readOnlyFile.writeViaStream(0n))).toBe('bad-descriptor');
    const writeOnlyFile = root.openAt(follow, 'f', {}, { write: true });
    expect(errOf(() => writeOnlyFile.read(1n, 0n))).toBe('bad-descriptor');
    expect(errOf(() => writeOnlyFile.openAt(follow, 'x', {}, {}))).toBe('not-directory');
    expect(errOf(() => root.read(1n, 0n))).toBe('is-directory');
  });

  it('a descriptor fails with bad-descriptor once its file was replaced behind it', () => {
    const root = openRoot();
    const file = root.openAt(follow, 'f', { create: true }, rw);
    writeFileSync(join(dataDir, 'g'), 'other');
    root.renameAt('g', root, 'f');
    expect(errOf(() => file.read(10n, 0n))).toBe('bad-descriptor');
  });

  it('refuses to open FIFOs and other special files instead of blocking on them', () => {
    execFileSync('mkfifo', [join(dataDir, 'pipe')]);
    const root = openRoot();
    expect(root.statAt(follow, 'pipe').type).toBe('fifo');
    expect(errOf(() => root.openAt(follow, 'pipe', {}, { read: true }))).toBe('unsupported');
  });

  it('streams read, write and append at their own positions', () => {
    const root = openRoot();
    const file = root.openAt(follow, 's', { create: true }, rw);
    const out = file.writeViaStream(0n);
    out.checkWrite();
    out.write(enc('abc'));
    out.blockingWriteAndFlush(enc('def'));
    const tail = file.appendViaStream();
    tail.blockingWriteAndFlush(enc('!'));
    expect(readFileSync(join(dataDir, 's'), 'utf8')).toBe('abcdef!');
    const input = file.readViaStream(2n);
    expect(dec(input.read(3n))).toBe('cde');
    expect(dec(input.blockingRead(10n))).toBe('f!');
    expect(errOf(() => input.read(1n))).toEqual({ tag: 'closed' });
  });

  it('lists a directory and removes entries', () => {
    const root = openRoot();
    root.createDirectoryAt('d');
    root.openAt(follow, 'd/f', { create: true }, rw);
    root.symlinkAt('f', 'd/l');
    const d = root.openAt(follow, 'd', { directory: true }, { read: true });
    const entries = [];
    const stream = d.readDirectory();
    for (let e = stream.readDirectoryEntry(); e; e = stream.readDirectoryEntry()) entries.push(e);
    expect(entries.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { type: 'regular-file', name: 'f' },
      { type: 'symbolic-link', name: 'l' },
    ]);
    expect(errOf(() => root.removeDirectoryAt('d'))).toBe('not-empty');
    expect(errOf(() => root.unlinkFileAt('d'))).toBe('is-directory');
    expect(errOf(() => root.removeDirectoryAt('d/f'))).toBe('not-directory');
    root.unlinkFileAt('d/l');
    root.unlinkFileAt('d/f');
    root.removeDirectoryAt('d');
    expect(existsSync(join(dataDir, 'd'))).toBe(false);
    expect(errOf(() => root.unlinkFileAt('d'))).toBe('no-entry');
  });

  it('a directory opened below keeps the rights of its parent', () => {
    const root = openRoot();
    root.createDirectoryAt('d');
    const d = root.openAt(follow, 'd', { directory: true }, { read: true });
    expect(d.getFlags()).toEqual(root.getFlags());
    d.openAt(follow, 'inner', { create: true }, rw).write(enc('x'), 0n);
    expect(readFileSync(join(dataDir, 'd', 'inner'), 'utf8')).toBe('x');
  });

  it('identifies objects by metadata hash and is-same-object', () => {
    const root = openRoot();
    const a = root.openAt(follow, 'a', { create: true }, rw);
    root.symlinkAt('a', 'alias');
    const again = root.openAt(follow, 'alias', {}, { read: true });
    expect(a.isSameObject(again)).toBe(true);
    expect(a.isSameObject(root)).toBe(false);
    expect(root.metadataHashAt(follow, 'alias')).toEqual(a.metadataHash());
    expect(root.metadataHashAt({}, 'alias')).not.toEqual(a.metadataHash());
    const ino = BigInt(statSync(join(dataDir, 'a')).ino);
    expect([a.metadataHash().lower, a.metadataHash().upper]).not.toContain(ino);
  });

  it('sets times, syncs, advises; link-at is unsupported', () => {
    const root = openRoot();
    const file = root.openAt(follow, 't', { create: true }, rw);
    file.setTimes({ tag: 'no-change' }, { tag: 'timestamp', val: { seconds: 1_000_000n, nanoseconds: 0 } });
    expect(statSync(join(dataDir, 't')).mtimeMs).toBe(1_000_000_000);
    root.setTimesAt(follow, 't', { tag: 'timestamp', val: { seconds: 2_000_000n, nanoseconds: 0 } }, { tag: 'no-change' });
    expect(statSync(join(dataDir, 't')).atimeMs).toBe(2_000_000_000);
    expect(statSync(join(dataDir, 't')).mtimeMs).toBe(1_000_000_000);
    file.sync();
    file.syncData();
    root.sync();
    file.advise(0n, 10n, 'sequential');
    expect(errOf(() => root.linkAt(follow, 't', root, 'u'))).toBe('unsupported');
    expect(errOf(() => root.advise(0n, 1n, 'normal'))).toBe('is-directory');
  });
});

describe('errors', () => {
  it('maps Node errno failures to WASI codes and anything else to io', () => {
    const root = openRoot();
    root.createDirectoryAt('d');
    root.createDirectoryAt('d/inner');
    // rename(2) of a directory into itself is EINVAL from the OS, not a check of Berth's.
    expect(errOf(() => root.renameAt('d', root, 'd/inner/d'))).toBe('invalid');
    expect(toFilesystemErrorCode(Object.assign(new Error('x'), { code: 'EXDEV' }))).toBe('cross-device');
    expect(toFilesystemErrorCode(Object.assign(new Error('x'), { code: 'EWHATEVER' }))).toBe('io');
    expect(toFilesystemErrorCode(new TypeError('bug'))).toBe('io');
    expect(toFilesystemErrorCode(undefined)).toBe('io');
  });
});

describe('quota', () => {
  it('counts existing bytes and refuses writes past the quota with insufficient-space', () => {
    writeFileSync(join(dataDir, 'existing'), Buffer.alloc(60));
    mkdirSync(join(dataDir, 'nested'));
    writeFileSync(join(dataDir, 'nested', 'more'), Buffer.alloc(20));
    const root = openRoot({ quotaBytes: 100 });
    const file = root.openAt(follow, 'new', { create: true }, rw);
    expect(file.write(new Uint8Array(20), 0n)).toBe(20n);
    expect(errOf(() => file.write(new Uint8Array(1), 20n))).toBe('insufficient-space');
    // Overwriting in place does not grow the directory.
    expect(file.write(new Uint8Array(20).fill(7), 0n)).toBe(20n);
    expect(errOf(() => file.setSize(21n))).toBe('insufficient-space');
    expect(errOf(() => file.write(new Uint8Array(1), 1_000_000n))).toBe('insufficient-space');
    expect(statSync(join(dataDir, 'new')).size).toBe(20);
  });

  it('gives space back on unlink, truncate and rename-over', () => {
    const root = openRoot({ quotaBytes: 100 });
    const a = root.openAt(follow, 'a', { create: true }, rw);
    a.write(new Uint8Array(100), 0n);
    const b = root.openAt(follow, 'b', { create: true }, rw);
    expect(errOf(() => b.write(new Uint8Array(1), 0n))).toBe('insufficient-space');
    a.setSize(50n);
    expect(b.write(new Uint8Array(50), 0n)).toBe(50n);
    root.renameAt('b', root, 'a');
    const c = root.openAt(follow, 'c', { create: true }, rw);
    expect(c.write(new Uint8Array(50), 0n)).toBe(50n);
    root.unlinkFileAt('c');
    root.openAt(follow, 'a', { truncate: true }, rw);
    const d = root.openAt(follow, 'd', { create: true }, rw);
    expect(d.write(new Uint8Array(100), 0n)).toBe(100n);
    expect(errOf(() => d.write(new Uint8Array(1), 100n))).toBe('insufficient-space');
  });

  it('bounds the number of names, so empty files cannot exhaust host inodes', () => {
    writeFileSync(join(dataDir, 'existing'), '');
    const root = openRoot({ maxEntries: 3 });
    root.createDirectoryAt('d');
    root.symlinkAt('existing', 'l');
    expect(errOf(() => root.openAt(follow, 'f', { create: true }, rw))).toBe('insufficient-space');
    expect(errOf(() => root.createDirectoryAt('e'))).toBe('insufficient-space');
    expect(errOf(() => root.symlinkAt('existing', 'm'))).toBe('insufficient-space');
    expect(existsSync(join(dataDir, 'f')) || existsSync(join(dataDir, 'e')) || existsSync(join(dataDir, 'm'))).toBe(false);
    // Opening what exists needs no new name; removing one frees a name.
    root.openAt(follow, 'existing', { create: true }, rw);
    root.unlinkFileAt('l');
    root.openAt(follow, 'f', { create: true }, rw);
    root.renameAt('f', root, 'existing');
    root.removeDirectoryAt('d');
    root.createDirectoryAt('e');
    root.createDirectoryAt('e2');
    expect(errOf(() => root.createDirectoryAt('e3'))).toBe('insufficient-space');
  });

  it('reports a quota failure on a stream as last-operation-failed with the filesystem code', () => {
    const root = openRoot({ quotaBytes: 4 });
    const out = root.openAt(follow, 'f', { create: true }, rw).writeViaStream(0n);
    out.checkWrite();
    const err = errOf(() => out.write(enc('too long'))) as { tag: string; val: IoError };
    expect(err.tag).toBe('last-operation-failed');
    expect(filesystemErrorCode(err.val)).toBe('insufficient-space');
    expect(err.val.toDebugString()).toContain('insufficient-space');
  });
});

describe('creating the host', () => {
  it('refuses a missing data directory and a bad guest path with clear errors', () => {
    expect(() => createFilesystemHost({ hostDir: join(dataDir, 'nope'), guestPath: '/data' })).toThrow(/cannot be opened/);
    writeFileSync(join(dataDir, 'file'), '');
    expect(() => createFilesystemHost({ hostDir: join(dataDir, 'file'), guestPath: '/data' })).toThrow(/not a directory/);
    expect(() => createFilesystemHost({ hostDir: dataDir, guestPath: 'data' })).toThrow(/guest path/);
    expect(() => createFilesystemHost({ hostDir: dataDir, guestPath: '/data/../etc' })).toThrow(/guest path/);
    expect(() => createFilesystemHost({ hostDir: dataDir, guestPath: '/data', quotaBytes: -1 })).toThrow(/quotaBytes/);
  });
});
