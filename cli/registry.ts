import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import type { Command } from './main.js';
import { stopSignal } from './stop-signal.js';

const HELP = `usage: berth registry --dir <dir> [options]

Runs Berth's embedded OCI registry (distribution-spec 1.1 subset: pull, push, tags, referrers
API), storing content-addressed blobs under <dir>. Anonymous: plain HTTP on loopback only, or
HTTPS with --cert and --key; anywhere but loopback it must be --read-only.

  --dir <dir>           storage directory (created if missing; required)
  --host <addr>         listen address (default 127.0.0.1)
  --port <n>            listen port (default 5000; 0 picks a free one)
  --cert <file>         PEM certificate chain: serve HTTPS
  --key <file>          PEM private key of --cert
  --read-only           pull endpoints only; pushes answer 405
  --max-blob-mib <n>    largest blob accepted by push (default 512)`;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export interface RegistryCommandOptions {
  dir: string;
  host: string;
  port: number;
  tls?: { key: string; cert: string };
  readOnly: boolean;
  maxBlobBytes: number;
}

const OPTIONS = {
  dir: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'read-only': { type: 'boolean' },
  'max-blob-mib': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags → options, refusing the insecure combinations (plain HTTP or open push off loopback). */
export function registryCommandOptions(argv: string[]): RegistryCommandOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: OPTIONS,
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new BerthError('cli.usage', `unexpected argument '${positionals[0]}'`);
  if (!values.dir) throw new BerthError('cli.usage', '--dir <dir> is required (where blobs and manifests are stored)');
  const port = Number(values.port ?? 5000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new BerthError('cli.usage', `--port must be 0-65535, not '${values.port}'`);
  const mib = Number(values['max-blob-mib'] ?? 512);
  if (!Number.isInteger(mib) || mib < 1 || mib > 64 * 1024)
    throw new BerthError('cli.usage', `--max-blob-mib must be 1-65536, not '${values['max-blob-mib']}'`);
  if ((values.cert === undefined) !== (values.key === undefined)) throw new BerthError('cli.usage', '--cert and --key go together');
  const host = values.host ?? '127.0.0.1';
  const loopback = LOOPBACK.has(host) || /^127\./.test(host);
  if (!loopback && !values.cert) throw new BerthError('cli.usage', `plain HTTP is for loopback only; give --cert and --key to listen on ${host}`);
  if (!loopback && !values['read-only'])
    throw new BerthError('cli.usage', `the registry has no authentication: anywhere but loopback it must be --read-only (listening on ${host})`);
  const options: RegistryCommandOptions = { dir: resolve(values.dir), host, port, readOnly: values['read-only'] === true, maxBlobBytes: mib * 1024 * 1024 };
  if (values.cert && values.key) options.tls = { cert: readPem(values.cert, 'certificate'), key: readPem(values.key, 'key') };
  return options;
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new BerthError('cli.bad-file', `cannot read the ${what} file ${path}: ${(err as Error).message}`);
  }
}

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const options = registryCommandOptions(argv);
    if (options === 'help') {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    const { startRegistryServer } = await import('../oci/server/serve.js');
    const { createLogger } = await import('../common/logger.js');
    const { pino } = await import('pino');
    const logger = createLogger({ name: 'berth-registry' }, pino.destination({ fd: 2, sync: true }));
    let running;
    try {
      running = await startRegistryServer({ ...options, logger });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES')
        throw new BerthError('cli.listen', `cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`);
      throw err;
    }
    const scheme = options.tls ? '' : ' --plain-http';
    process.stdout.write(
      [
        `berth registry listening on ${running.url}${options.readOnly ? ' (read-only)' : ''}, storage ${options.dir}`,
        `push to it:  berth push app.wasm oci://${running.host}/<vendor>/<app>:<version>${scheme}`,
        '',
      ].join('\n'),
    );
    await stopSignal();
    await running.close().catch(() => {});
    return 0;
  },
};
