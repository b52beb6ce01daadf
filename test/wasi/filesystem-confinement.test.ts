import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFilesystemHost } from '../../host-apis/wasi/filesystem.js';
import type { Descriptor } from '../../host-apis/wasi/fs-descriptor.js';
import { errOf, tempDirs } from './helpers.js';

const dirs = tempDirs();
let outside: string;
let dataDir: string;
let root: Descriptor;

const follow = { symlinkFollow: true };
const noFollow = {};
const rw = { read: true, write: true };

function openRoot(options: { quotaBytes?: number; readOnly?: boolean } = {}): Descriptor {
  const host = createFilesystemHost({ hostDir: dataDir, guestPath: '/data', ...options });
  const [[descriptor, guestPath]] = host['wasi:filesystem/preopens'].getDirectories() as [[Descriptor, string]];
  expect(guestPath).toBe('/data');
  return descriptor;
}

beforeEach(() => {
  const base = dirs.make('confine');
  outside = join(base, 'outside');
  dataDir = join(base, 'app', 'data');
  mkdirSync(outside);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(outside, 'secret'), 'host secret');
  root = openRoot();
});

afterEach(() => dirs.cleanup());

describe('paths that leave the data directory are refused', () => {
  it('refuses absolute paths, for every kind of call', () => {
    expect(errOf(() => root.openAt(follow, '/etc/passwd', {}, { read: true }))).toBe('not-permitted');
    expect(errOf(() => root.openAt(follow, join(outside, 'secret'), {}, { read: true }))).toBe('not-permitted');
    expect(errOf(() => root.statAt(follow, '/etc'))).toBe('not-permitted');
    expect(errOf(() => root.createDirectoryAt('/tmp/x'))).toBe('not-permitted');
    expect(errOf(() => root.unlinkFileAt('/etc/passwd'))).toBe('not-permitted');
  });

  it('refuses .. above the root, also after descending and through a sub-directory descriptor', () => {
    expect(errOf(() => root.openAt(follow, '..', {}, { read: true }))).toBe('not-permitted');
    expect(errOf(() => root.openAt(follow, '../outside/secret', {}, { read: true }))).toBe('not-permitted');
    root.createDirectoryAt('sub');
    expect(errOf(() => root.openAt(follow, 'sub/../../outside/secret', {}, { read: true }))).toBe('not-permitted');
    const sub = root.openAt(follow, 'sub', { directory: true }, { read: true });
    expect(errOf(() => sub.statAt(follow, '../sub'))).toBe('not-permitted');
    expect(errOf(() => root.statAt(noFollow, './sub/./../..'))).toBe('not-permitted');
  });

  it('allows .. that stays inside', () => {
    root.createDirectoryAt('a');
    root.createDirectoryAt('b');
    const file = root.openAt(follow, 'a/../b/./f.txt', { create: true }, rw);
    file.write(new TextEncoder().encode('hi'), 0n);
    expect(readFileSync(join(dataDir, 'b', 'f.txt'), 'utf8')).toBe('hi');
  });

  it('refuses a symlink with an absolute target, but lets it be inspected without following', () => {
    symlinkSync('/etc/passwd', join(dataDir, 'link-abs'));
    expect(errOf(() => root.openAt(follow, 'link-abs', {}, { read: true }))).toBe('not-permitted');
    expect(errOf(() => root.statAt(follow, 'link-abs'))).toBe('not-permitted');
    expect(root.statAt(noFollow, 'link-abs').type).toBe('symbolic-link');
    expect(root.readlinkAt('link-abs')).toBe('/etc/passwd');
  });

  it('refuses a relative symlink that climbs out, directly or as a middle component', () => {
    symlinkSync('../../../../etc/passwd', join(dataDir, 'link-rel'));
    symlinkSync('../outside', join(dataDir, 'link-dir'));
    expect(errOf(() => root.openAt(follow, 'link-rel', {}, { read: true }))).toBe('not-permitted');
    expect(errOf(() => root.openAt(follow, 'link-dir/secret', {}, { read: true }))).toBe('not-permitted');
    expect(errOf(() => root.openAt(noFollow, 'link-dir/secret', {}, { read: true }))).toBe('not-permitted');
    // Creating through an escaping link must not create anything outside either.
    expect(errOf(() => root.openAt(follow, 'link-dir/new', { create: true }, rw))).toBe('not-permitted');
    expect(existsSync(join(outside, 'new'))).toBe(false);
  });

  it('refuses a link that climbs out and back in, and judges links by the descriptor used', () => {
    const dataName = dataDir.split('/').pop()!;
    writeFileSync(join(dataDir, 'x'), 'x');
    symlinkSync(`../${dataName}/x`, join(dataDir, 'round-trip'));
    expect(errOf(() => root.openAt(follow, 'round-trip', {}, { read: true }))).toBe('not-permitted');
    // As in cap-std: a path resolved against a sub-directory's descriptor may not leave it.
    root.createDirectoryAt('sub');
    symlinkSync('../x', join(dataDir, 'sub', 'up'));
    expect(root.openAt(follow, 'sub/up', {}, { read: true }).getType()).toBe('regular-file');
    const sub = root.openAt(follow, 'sub', { directory: true }, { read: true });
    expect(errOf(() => sub.openAt(follow, 'up', {}, { read: true }))).toBe('not-permitted');
  });

  it('follows symlinks that stay inside', () => {
    root.createDirectoryAt('real');
    writeFileSync(join(dataDir, 'real', 'f'), 'inside');
    symlinkSync('real', join(dataDir, 'alias'));
    symlinkSync('../real/f', join(dataDir, 'real', 'self'));
    const [bytes] = root.openAt(follow, 'alias/self', {}, { read: true }).read(100n, 0n);
    expect(new TextDecoder().decode(bytes)).toBe('inside');
  });

  it('refuses a link loop with loop', () => {
    symlinkSync('b', join(dataDir, 'a'));
    symlinkSync('a', join(dataDir, 'b'));
    expect(errOf(() => root.openAt(follow, 'a', {}, { read: true }))).toBe('loop');
  });

  it('honours no-follow on the final component', () => {
    writeFileSync(join(dataDir, 'target'), 'x');
    symlinkSync('target', join(dataDir, 'link'));
    expect(errOf(() => root.openAt(noFollow, 'link', {}, { read: true }))).toBe('loop');
    expect(root.openAt(follow, 'link', {}, { read: true }).getType()).toBe('regular-file');
  });

  it('refuses symlink-at targets that leave the directory, and creates ones that stay', () => {
    expect(errOf(() => root.symlinkAt('/etc/passwd', 'l1'))).toBe('not-permitted');
    expect(errOf(() => root.symlinkAt('../outside/secret', 'l2'))).toBe('not-permitted');
    root.createDirectoryAt('d');
    expect(errOf(() => root.symlinkAt('../../x', 'd/l3'))).toBe('not-permitted');
    expect(existsSync(join(dataDir, 'l1')) || existsSync(join(dataDir, 'l2'))).toBe(false);
    root.symlinkAt('../x', 'd/l4');
    expect(readlinkSync(join(dataDir, 'd', 'l4'))).toBe('../x');
  });

  it('refuses to rename anything out of the directory or onto another app', () => {
    writeFileSync(join(dataDir, 'f'), 'data');
    expect(errOf(() => root.renameAt('f', root, '../outside/f'))).toBe('not-permitted');
    expect(errOf(() => root.renameAt('f', root, '/tmp/f'))).toBe('not-permitted');
    expect(errOf(() => root.renameAt('../outside/secret', root, 'stolen'))).toBe('not-permitted');
    const otherApp = createFilesystemHost({ hostDir: outside, guestPath: '/data' });
    const [[otherRoot]] = otherApp['wasi:filesystem/preopens'].getDirectories() as [[Descriptor, string]];
    expect(errOf(() => root.renameAt('f', otherRoot, 'f'))).toBe('cross-device');
    // An object that only has the prototype (no app context) carries no authority at all.
    const forged = Object.create(Object.getPrototypeOf(root)) as Descriptor;
    expect(errOf(() => root.renameAt('f', forged, 'f'))).toBe('bad-descriptor');
    expect(root.isSameObject(forged)).toBe(false);
    expect(errOf(() => forged.openAt(follow, 'f', {}, { read: true }))).toBe('io');
    expect(readFileSync(join(dataDir, 'f'), 'utf8')).toBe('data');
    root.renameAt('f', root, 'g');
    expect(readFileSync(join(dataDir, 'g'), 'utf8')).toBe('data');
  });

  it('refuses malformed paths with clear codes', () => {
    expect(errOf(() => root.statAt(follow, ''))).toBe('no-entry');
    expect(errOf(() => root.statAt(follow, 'a\0b'))).toBe('invalid');
    expect(errOf(() => root.statAt(follow, 'x'.repeat(300)))).toBe('name-too-long');
    expect(errOf(() => root.statAt(follow, 'a/'.repeat(3000)))).toBe('name-too-long');
  });

  it('does not let the root itself be removed or renamed', () => {
    expect(errOf(() => root.removeDirectoryAt('.'))).toBe('invalid');
    expect(errOf(() => root.renameAt('.', root, 'x'))).toBe('invalid');
  });
});

describe('read-only', () => {
  it('refuses every change with read-only but allows reading', () => {
    writeFileSync(join(dataDir, 'f'), 'data');
    const ro = openRoot({ readOnly: true });
    expect(ro.getFlags()).toEqual({ read: true });
    expect(errOf(() => ro.openAt(follow, 'f', {}, { write: true }))).toBe('read-only');
    expect(errOf(() => ro.openAt(follow, 'new', { create: true }, { read: true }))).toBe('read-only');
    expect(errOf(() => ro.openAt(follow, 'f', { truncate: true }, { read: true }))).toBe('read-only');
    expect(errOf(() => ro.createDirectoryAt('d'))).toBe('read-only');
    expect(errOf(() => ro.unlinkFileAt('f'))).toBe('read-only');
    expect(errOf(() => ro.symlinkAt('f', 'l'))).toBe('read-only');
    expect(errOf(() => ro.renameAt('f', ro, 'g'))).toBe('read-only');
    const file = ro.openAt(follow, 'f', {}, { read: true });
    expect(errOf(() => file.write(new Uint8Array([1]), 0n))).toBe('bad-descriptor');
    expect(errOf(() => file.setSize(0n))).toBe('bad-descriptor');
    expect(new TextDecoder().decode(file.read(10n, 0n)[0])).toBe('data');
    expect(readFileSync(join(dataDir, 'f'), 'utf8')).toBe('data');
  });
});
