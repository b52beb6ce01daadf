import { LineSplitter } from './log.js';
import type { Provider } from './grant-table/definition.js';
import { once } from './per-instance.js';
import { createCliHost, type CliHost } from './wasi/cli.js';
import { ioHost } from './wasi/io.js';

/** Where an app sees its `files` grant. */
export const GUEST_DATA_PATH = '/data';

/**
 * The WASI interfaces that carry no authority of their own (import-policy.ts BASELINE): streams,
 * polling, an empty environment, and stdio that goes to the app's own log. Every interface that
 * does carry authority is provided by its grant (host-apis/grant-table/).
 */
const cli = once((services: Parameters<Provider>[0]): CliHost => {
  const line = (source: 'stdout' | 'stderr') => {
    const splitter = new LineSplitter((message) => services.logger.write({ level: source === 'stderr' ? 'warn' : 'info', message, source }));
    return (bytes: Uint8Array) => splitter.push(bytes);
  };
  const { identity, grants } = services.context;
  return createCliHost({ args: [identity.app], cwd: grants.files ? GUEST_DATA_PATH : undefined, stdout: line('stdout'), stderr: line('stderr') });
});

function cliPart(key: keyof CliHost): Provider {
  return (services) => cli(services)[key];
}

export function baselineProviders(): Record<string, Provider> {
  return {
    'wasi:io/error': () => ioHost['wasi:io/error'],
    'wasi:io/streams': () => ioHost['wasi:io/streams'],
    'wasi:io/poll': () => ioHost['wasi:io/poll'],
    'wasi:cli/environment': cliPart('wasi:cli/environment'),
    'wasi:cli/exit': cliPart('wasi:cli/exit'),
    'wasi:cli/stdin': cliPart('wasi:cli/stdin'),
    'wasi:cli/stdout': cliPart('wasi:cli/stdout'),
    'wasi:cli/stderr': cliPart('wasi:cli/stderr'),
    'wasi:cli/terminal-input': cliPart('wasi:cli/terminal-input'),
    'wasi:cli/terminal-output': cliPart('wasi:cli/terminal-output'),
    'wasi:cli/terminal-stdin': cliPart('wasi:cli/terminal-stdin'),
    'wasi:cli/terminal-stdout': cliPart('wasi:cli/terminal-stdout'),
    'wasi:cli/terminal-stderr': cliPart('wasi:cli/terminal-stderr'),
  };
}
