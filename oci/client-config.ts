import { readFileSync } from 'node:fs';
import { BerthError } from '../common/errors.js';
import type { RegistryClientOptions } from './client.js';

/** Registry connection settings as the command line and environment give them. */
export interface RegistryFlags {
  ca?: string;
  'plain-http'?: boolean;
  username?: string;
  'password-stdin'?: boolean;
}

export const REGISTRY_FLAG_OPTIONS = {
  ca: { type: 'string' },
  'plain-http': { type: 'boolean' },
  username: { type: 'string' },
  'password-stdin': { type: 'boolean' },
} as const;

export const REGISTRY_FLAG_HELP = [
  '  --ca <file>          PEM of a private CA that issued the registry certificate',
  '  --plain-http         speak HTTP instead of HTTPS (a local test registry only)',
  '  --username <name>    registry user (or BERTH_REGISTRY_USERNAME)',
  '  --password-stdin     read the registry password from standard input (or BERTH_REGISTRY_PASSWORD)',
].join('\n');

export async function registryOptions(flags: RegistryFlags, env: NodeJS.ProcessEnv = process.env): Promise<RegistryClientOptions> {
  const options: RegistryClientOptions = {};
  if (flags.ca) {
    try {
      options.ca = readFileSync(flags.ca, 'utf8');
    } catch (err) {
      throw new BerthError('cli.bad-file', `cannot read CA file ${flags.ca}: ${(err as Error).message}`);
    }
  }
  if (flags['plain-http']) options.plainHttp = true;
  const username = flags.username ?? env.BERTH_REGISTRY_USERNAME;
  let password = env.BERTH_REGISTRY_PASSWORD;
  if (flags['password-stdin']) password = (await readStdin()).replace(/\r?\n$/, '');
  if (username !== undefined) {
    if (password === undefined) throw new BerthError('cli.usage', 'a registry username needs a password (--password-stdin or BERTH_REGISTRY_PASSWORD)');
    options.credentials = { username, password };
  }
  return options;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
