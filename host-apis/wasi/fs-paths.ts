/**
 * Confinement: every guest path is resolved here, one component at a time, inside the
 * directory of the descriptor it is relative to (the app's data directory or a directory
 * opened below it). The rules follow cap-std, which wasmtime uses:
 *   - absolute paths are refused (`not-permitted`);
 *   - `..` may not climb above the descriptor's directory (`not-permitted`);
 *   - symbolic links are followed by Berth itself, never by the OS: an absolute target, or a
 *     relative one that climbs out, is refused (`not-permitted`); more than 40 links: `loop`.
 * The result names a host path that contains no symbolic link except, when not following,
 * possibly the final component, so the OS never resolves a link on the guest's behalf.
 *
 * Node has no openat(2), so a host process that swaps a checked directory for a link between
 * the check and the use could still win a race; the guest itself cannot (it is single-threaded
 * and every call is synchronous), and no other app can reach this directory.
 */
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { fsFail } from './fs-errors.js';

const MAX_SYMLINKS = 40;
const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;

export interface ResolvedPath {
  /** Components below the sandbox root (never `.`, `..` or empty). */
  readonly segments: readonly string[];
  readonly hostPath: string;
  /** lstat of the final component; undefined when it does not exist. */
  readonly stat: Stats | undefined;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}

/** Checks a guest-supplied path string before any component of it is looked at. */
export function checkPathSyntax(path: string): void {
  if (typeof path !== 'string') fsFail('invalid');
  if (path.includes('\0')) fsFail('invalid');
  if (path === '') fsFail('no-entry');
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) fsFail('name-too-long');
  if (path.startsWith('/')) fsFail('not-permitted');
}

/**
 * Resolves `path` relative to `base` (segments below `root`). With `followFinal` false the
 * last component is not followed if it is a link (it is then what the call operates on).
 */
export function resolveInside(root: string, base: readonly string[], path: string, followFinal: boolean): ResolvedPath {
  checkPathSyntax(path);
  const mustBeDirectory = path.endsWith('/');
  const pending = splitPath(path);
  const stack: string[] = [];
  let links = 0;
  let missing = false;

  while (pending.length > 0) {
    const segment = pending.shift()!;
    if (segment === '..') {
      if (stack.length === 0) fsFail('not-permitted');
      stack.pop();
      continue;
    }
    if (Buffer.byteLength(segment) > MAX_NAME_BYTES) fsFail('name-too-long');
    const isLast = pending.length === 0;
    const hostPath = join(root, ...base, ...stack, segment);
    const stat = lstatSync(hostPath, { throwIfNoEntry: false });
    if (stat === undefined) {
      if (!isLast) fsFail('no-entry');
      stack.push(segment);
      missing = true;
      break;
    }
    if (stat.isSymbolicLink() && (!isLast || followFinal || mustBeDirectory)) {
      if (++links > MAX_SYMLINKS) fsFail('loop');
      const target = readlinkSync(hostPath, 'utf8');
      if (target === '') fsFail('no-entry');
      if (target.startsWith('/')) fsFail('not-permitted');
      pending.unshift(...splitPath(target));
      continue;
    }
    if (!isLast && !stat.isDirectory()) fsFail('not-directory');
    stack.push(segment);
  }

  const segments = [...base, ...stack];
  const hostPath = join(root, ...segments);
  const stat = missing ? undefined : lstatSync(hostPath);
  if (mustBeDirectory && stat !== undefined && !stat.isDirectory()) fsFail('not-directory');
  return { segments, hostPath, stat };
}

/**
 * True when a link with this target, placed in the directory `linkParent` (segments below
 * the descriptor's directory), would stay inside that descriptor's directory.
 */
export function symlinkTargetStaysInside(linkParent: readonly string[], target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\0')) return false;
  let depth = linkParent.length;
  for (const segment of splitPath(target)) {
    depth += segment === '..' ? -1 : 1;
    if (depth < 0) return false;
  }
  return true;
}
