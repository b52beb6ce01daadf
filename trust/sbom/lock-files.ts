import { basename } from 'node:path';
import { BerthError } from '../../common/errors.js';
import { readInput } from '../signing/files.js';
import { readCargoLock } from './cargo-lock.js';
import { readGoSum } from './go-sum.js';
import type { LockedGraph } from './locked.js';
import { readNpmLock } from './npm-lock.js';

/** The lock files Berth reads, by file name: the name is the only thing that says which format a file is in. */
const READERS: Record<string, (file: string, text: string) => LockedGraph> = {
  'package-lock.json': readNpmLock,
  'npm-shrinkwrap.json': readNpmLock,
  'Cargo.lock': readCargoLock,
  'go.sum': readGoSum,
};

export const LOCK_FILE_NAMES: readonly string[] = Object.keys(READERS);

/** Lock files of large workspaces run to a few MB; this bounds what one bad path can make Berth read. */
const MAX_LOCK_BYTES = 64 * 1024 * 1024;

/** `text` read as the lock file `name` (a path or a file name; only the file name counts). */
export function parseLockFile(name: string, text: string): LockedGraph {
  return readerFor(name)(basename(name), text);
}

/** The name is checked first: an unknown one is refused before anything is read. */
export async function readLockFile(path: string): Promise<LockedGraph> {
  const read = readerFor(path);
  return read(basename(path), (await readInput(path, 'lock file', MAX_LOCK_BYTES)).toString('utf8'));
}

function readerFor(name: string): (file: string, text: string) => LockedGraph {
  const read = READERS[basename(name)];
  if (!read) throw new BerthError('unknown-lock-file', `${name}: not a lock file Berth reads; give one of ${LOCK_FILE_NAMES.join(', ')}`);
  return read;
}
