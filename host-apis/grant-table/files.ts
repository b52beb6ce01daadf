import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseSize } from '../grant-size.js';
import type { InstanceServices } from '../linker.js';
import { once } from '../per-instance.js';
import { createFilesystemHost, type FilesystemHost } from '../wasi/filesystem.js';
import { GUEST_DATA_PATH } from '../wasi-providers.js';
import { part, type GrantDefinition } from './definition.js';

const files = once(({ context }: InstanceServices): FilesystemHost => {
  const grant = context.grants.files!;
  const hostDir = join(context.dataDir, 'files');
  mkdirSync(hostDir, { recursive: true, mode: 0o700 });
  return createFilesystemHost({ hostDir, guestPath: GUEST_DATA_PATH, quotaBytes: grant.quotaBytes, readOnly: grant.readOnly });
});

export const filesGrant: GrantDefinition<'files'> = {
  name: 'files',
  providers: {
    'wasi:filesystem/types': part(files, 'wasi:filesystem/types'),
    'wasi:filesystem/preopens': part(files, 'wasi:filesystem/preopens'),
  },
  flags: {
    files: (value, into) => {
      into.files = value ? { quotaBytes: parseSize(value) } : {};
    },
  },
  usage: 'files[=QUOTA]',
};
