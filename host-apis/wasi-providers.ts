import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LineSplitter } from './log.js';
import type { InstanceServices } from './linker.js';
import { createCliHost, type CliHost } from './wasi/cli.js';
import { createClocksHost, type ClocksHost } from './wasi/clocks.js';
import { createFilesystemHost, type FilesystemHost } from './wasi/filesystem.js';
import { ioHost } from './wasi/io.js';
import { createRandomHost, type RandomHost } from './wasi/random.js';
// HTTP (docs/http.md): authority-free types, and a per-instance outgoing handler from the grant.
import { httpTypesHost } from './wasi/http-types.js';
import { createOutgoingHandler } from './wasi/http-outgoing-handler.js';

/** Where an app sees its `files` grant. */
export const GUEST_DATA_PATH = '/data';

type Provider = (services: InstanceServices) => unknown;

/**
 * Builds each WASI part once per instance, on first use, so that an app importing only
 * `wasi:cli/stdout` does not pay for a file system it cannot use.
 */
function once<T>(build: (services: InstanceServices) => T): (services: InstanceServices) => T {
  const built = new WeakMap<InstanceServices, T>();
  return (services) => {
    let value = built.get(services);
    if (value === undefined) built.set(services, (value = build(services)));
    return value;
  };
}

const cli = once((services): CliHost => {
  const line = (source: 'stdout' | 'stderr') => {
    const splitter = new LineSplitter((message) => services.logger.write({ level: source === 'stderr' ? 'warn' : 'info', message, source }));
    return (bytes: Uint8Array) => splitter.push(bytes);
  };
  const { identity, grants } = services.context;
  return createCliHost({ args: [identity.app], cwd: grants.files ? GUEST_DATA_PATH : undefined, stdout: line('stdout'), stderr: line('stderr') });
});

const clocks = once((): ClocksHost => createClocksHost());
const random = once((): RandomHost => createRandomHost());
const files = once(({ context }): FilesystemHost => {
  const grant = context.grants.files!;
  const hostDir = join(context.dataDir, 'files');
  mkdirSync(hostDir, { recursive: true, mode: 0o700 });
  return createFilesystemHost({ hostDir, guestPath: GUEST_DATA_PATH, quotaBytes: grant.quotaBytes, readOnly: grant.readOnly });
});

const outgoingHttp = once(({ context, logger }) =>
  createOutgoingHandler({
    grant: context.grants['outbound-http']!,
    hostCall: context.hostCall,
    warn: (message) => logger.write({ level: 'warn', message, source: 'host' }),
  }),
);

function part<T extends object>(host: (s: InstanceServices) => T, key: keyof T): Provider {
  return (services) => host(services)[key];
}

export function wasiProviders(): Record<string, Provider> {
  return {
    'wasi:io/error': () => ioHost['wasi:io/error'],
    'wasi:io/streams': () => ioHost['wasi:io/streams'],
    'wasi:io/poll': () => ioHost['wasi:io/poll'],
    'wasi:cli/environment': part(cli, 'wasi:cli/environment'),
    'wasi:cli/exit': part(cli, 'wasi:cli/exit'),
    'wasi:cli/stdin': part(cli, 'wasi:cli/stdin'),
    'wasi:cli/stdout': part(cli, 'wasi:cli/stdout'),
    'wasi:cli/stderr': part(cli, 'wasi:cli/stderr'),
    'wasi:cli/terminal-input': part(cli, 'wasi:cli/terminal-input'),
    'wasi:cli/terminal-output': part(cli, 'wasi:cli/terminal-output'),
    'wasi:cli/terminal-stdin': part(cli, 'wasi:cli/terminal-stdin'),
    'wasi:cli/terminal-stdout': part(cli, 'wasi:cli/terminal-stdout'),
    'wasi:cli/terminal-stderr': part(cli, 'wasi:cli/terminal-stderr'),
    'wasi:clocks/wall-clock': part(clocks, 'wasi:clocks/wall-clock'),
    'wasi:clocks/monotonic-clock': part(clocks, 'wasi:clocks/monotonic-clock'),
    'wasi:random/random': part(random, 'wasi:random/random'),
    'wasi:random/insecure': part(random, 'wasi:random/insecure'),
    'wasi:random/insecure-seed': part(random, 'wasi:random/insecure-seed'),
    'wasi:filesystem/types': part(files, 'wasi:filesystem/types'),
    'wasi:filesystem/preopens': part(files, 'wasi:filesystem/preopens'),
    'wasi:http/types': () => httpTypesHost,
    'wasi:http/outgoing-handler': outgoingHttp,
  };
}
