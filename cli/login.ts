import { readFileSync } from 'node:fs';
import { BerthError } from '../common/errors.js';
import { CONTEXT_NAME, configPath, contextSchema, readConfig, writeConfig, type Context } from './config.js';
import type { Command } from './main.js';
import { readCaFile } from './target.js';
import { parseCommandLine, UsageError } from './usage.js';

const HELP = `usage: berth login --url <url> --ca <ca.pem> --token <token> [--context <name>]

Checks the token and the CA against the control plane, then saves them as a context (default
name: the URL's host and port) and makes it the current one. API commands use the current
context unless told otherwise (--context, $BERTH_CONTEXT, --url, --data-dir).

  --url <url>        the control plane, https://host:port
  --ca <ca.pem>      the fleet root CA; saved inline, so the file is not needed afterwards
  --token <token>    an operator or vendor token (berth token create); saved, never printed;
                     - reads it from standard input (out of shell history and ps)
  --context <name>   the context's name (letters, digits, . _ -)

Contexts live in $BERTH_CONFIG, else $XDG_CONFIG_HOME/berth/config.yaml, else
~/.config/berth/config.yaml, written owner-only (0600). See berth context, docs/cli.md.`;

const OPTIONS = {
  url: { type: 'string' },
  ca: { type: 'string' },
  token: { type: 'string' },
  context: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, OPTIONS);
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (positionals.length) throw new UsageError(`login takes no arguments, not '${positionals[0]}'`);
    if (!values.url || !values.ca || !values.token) throw new UsageError('login needs --url, --ca and --token');
    const checked = contextSchema.safeParse({ url: values.url, ca: readCaFile(values.ca), token: readToken(values.token) });
    if (!checked.success) throw new UsageError(checked.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
    const context: Context = checked.data;
    const name = values.context ?? defaultName(context.url);
    if (!CONTEXT_NAME.test(name)) throw new UsageError(`'${name}' is not a context name (letters, digits, . _ -; up to 63)`);
    await checkCredentials(context);
    const config = readConfig();
    config.contexts[name] = context;
    config['current-context'] = name;
    writeConfig(config);
    process.stdout.write(`logged in to ${context.url}; context '${name}' saved in ${configPath()} and now current\n`);
    return 0;
  },
};

/** The token as given, or read from standard input for `--token -`, so it stays out of shell history and ps. */
function readToken(value: string): string {
  return value === '-' ? readFileSync(0, 'utf8').trim() : value;
}

/** host:port with ':' as '-', so the name is a plain word. */
function defaultName(url: string): string {
  const u = new URL(url);
  return (u.port ? `${u.hostname}-${u.port}` : u.hostname).replace(/[^A-Za-z0-9._-]/g, '-');
}

/**
 * One request every role may make (reading the catalog, scoped to a vendor's own apps): it
 * proves the CA verifies the server and the token is accepted, before anything is saved.
 */
async function checkCredentials(context: Context): Promise<void> {
  const { adminCall } = await import('../orchestrator/admin/client.js');
  try {
    await adminCall({ kind: 'https', ...context }, 'GET', '/api/v1/catalog/apps');
  } catch (err) {
    if (err instanceof BerthError) throw new BerthError(err.code, `not saved: ${err.message}`, err.details);
    throw err;
  }
}
