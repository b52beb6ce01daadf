/**
 * `wasi:filesystem/types` and `wasi:filesystem/preopens` for one app: its data directory,
 * preopened at `guestPath`, and nothing else of the host's file system.
 */
import { nodeCrypto } from '../node-crypto.js';
import { realpathSync, statSync } from 'node:fs';
import { BerthError } from '../../common/errors.js';
import type { FsContext } from './fs-context.js';
import { Descriptor, DirectoryEntryStream } from './fs-descriptor.js';
import type { FilesystemErrorCode } from './fs-errors.js';
import { DiskQuota, measureDirectory } from './fs-quota.js';
import { IoError } from './streams.js';

export interface FilesystemHostOptions {
  /** The app's data directory on the host; must exist. */
  hostDir: string;
  /** Where the guest sees it, e.g. `/data`. */
  guestPath: string;
  /** Most bytes the directory's files may hold in total; no limit when absent. */
  quotaBytes?: number;
  /** Most names (files, directories, links) the directory may hold; 100 000 when absent. */
  maxEntries?: number;
  readOnly?: boolean;
}

export interface FilesystemHost {
  'wasi:filesystem/types': {
    Descriptor: typeof Descriptor;
    DirectoryEntryStream: typeof DirectoryEntryStream;
    filesystemErrorCode: (err: IoError) => FilesystemErrorCode | undefined;
  };
  'wasi:filesystem/preopens': {
    getDirectories: () => Array<[Descriptor, string]>;
  };
}

export function filesystemErrorCode(err: IoError): FilesystemErrorCode | undefined {
  return err instanceof IoError ? IoError.filesystemCodeOf(err) : undefined;
}

/** The types interface alone carries no authority: without a preopen the guest holds no descriptor. */
export const filesystemTypes: FilesystemHost['wasi:filesystem/types'] = Object.freeze({
  Descriptor,
  DirectoryEntryStream,
  filesystemErrorCode,
});

/** For an app without the files grant: the interfaces exist, but nothing is preopened. */
export const noFilesystemHost: FilesystemHost = Object.freeze({
  'wasi:filesystem/types': filesystemTypes,
  'wasi:filesystem/preopens': Object.freeze({ getDirectories: () => [] }),
});

function checkGuestPath(guestPath: string): void {
  const ok =
    typeof guestPath === 'string' && guestPath.startsWith('/') && !guestPath.includes('\0') && !guestPath.split('/').some((s) => s === '.' || s === '..');
  if (!ok) throw new BerthError('WASI_FS_GUEST_PATH', `guest path must be an absolute path without . or .., got ${JSON.stringify(guestPath)}`);
}

function openRoot(hostDir: string): string {
  let root: string;
  try {
    root = realpathSync(hostDir);
  } catch (err) {
    throw new BerthError('WASI_FS_ROOT', `app data directory ${hostDir} cannot be opened`, { hostDir }, { cause: err });
  }
  if (!statSync(root).isDirectory()) {
    throw new BerthError('WASI_FS_ROOT', `app data directory ${hostDir} is not a directory`, { hostDir });
  }
  return root;
}

export function createFilesystemHost(options: FilesystemHostOptions): FilesystemHost {
  checkGuestPath(options.guestPath);
  const root = openRoot(options.hostDir);
  const ctx: FsContext = {
    root,
    readOnly: options.readOnly === true,
    quota: new DiskQuota(options.quotaBytes, measureDirectory(root), options.maxEntries),
    hashKey: nodeCrypto().randomBytes(16),
  };
  const guestPath = options.guestPath;
  return {
    'wasi:filesystem/types': filesystemTypes,
    'wasi:filesystem/preopens': { getDirectories: () => [[Descriptor.root(ctx), guestPath]] },
  };
}
