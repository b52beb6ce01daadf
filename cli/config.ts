import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { BerthError } from '../common/errors.js';

/**
 * The berth command's contexts (docs/cli.md): named control planes, each with its URL, the fleet
 * root CA inline as PEM (so the file alone is enough, and a moved or rotated CA file cannot
 * silently change what a context trusts) and a bearer token. The file holds tokens, so it is
 * written owner-only (0600) in an owner-only directory.
 */
export const contextSchema = z.strictObject({
  url: z.url({ protocol: /^https$/ }),
  ca: z.string().includes('-----BEGIN CERTIFICATE-----'),
  token: z.string().min(1),
});
export type Context = z.infer<typeof contextSchema>;

const configSchema = z.strictObject({
  'current-context': z.string().optional(),
  contexts: z.record(z.string(), contextSchema).default({}),
});
export type CliConfig = z.infer<typeof configSchema>;

/** A context name: something a shell completes and a YAML key holds without quoting surprises. */
export const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** $BERTH_CONFIG, else $XDG_CONFIG_HOME/berth/config.yaml, else ~/.config/berth/config.yaml. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_CONFIG) return env.BERTH_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'berth', 'config.yaml');
}

/** The config file, or an empty one where there is none yet. */
export function readConfig(path = configPath()): CliConfig {
  if (!existsSync(path)) return { contexts: {} };
  // Written 0600 here; a copy or an editor may have loosened it, and it holds tokens.
  if (statSync(path).mode & 0o077) process.stderr.write(`berth: warning: ${path} is readable by others; chmod 600 it\n`);
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8')) ?? {};
  } catch (err) {
    throw new BerthError('cli.bad_config', `${path}: ${(err as Error).message}`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new BerthError('cli.bad_config', `${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Writes the whole file owner-only, through a temporary file so a crash never leaves half of it. */
export function writeConfig(config: CliConfig, path = configPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, stringify(config), { mode: 0o600 });
  // The mode given to writeFileSync is masked by the umask and ignored for an existing file.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
