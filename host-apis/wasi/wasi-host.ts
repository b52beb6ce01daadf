/**
 * One app's whole WASI 0.2 import object, as the preview1 command adapter and most
 * components need it: io, clocks, random, cli, and (when granted) its data directory.
 * The runtime's linker may also take the parts one by one; each part is its own factory.
 */
import { createCliHost, type CliHost, type CliHostOptions } from './cli.js';
import { createClocksHost, type ClocksHost } from './clocks.js';
import { createFilesystemHost, noFilesystemHost, type FilesystemHost, type FilesystemHostOptions } from './filesystem.js';
import { ioHost, type IoHost } from './io.js';
import { createRandomHost, type RandomHost } from './random.js';

export interface WasiHostOptions {
  cli: CliHostOptions;
  /** Absent: no preopened directory at all (get-directories returns an empty list). */
  filesystem?: FilesystemHostOptions;
}

export type WasiHost = IoHost & ClocksHost & RandomHost & CliHost & FilesystemHost;

export function createWasiHost(options: WasiHostOptions): WasiHost {
  return {
    ...ioHost,
    ...createClocksHost(),
    ...createRandomHost(),
    ...createCliHost(options.cli),
    ...(options.filesystem ? createFilesystemHost(options.filesystem) : noFilesystemHost),
  };
}
