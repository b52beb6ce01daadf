import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Where an operator command reaches the control plane (cli/orchestrator.ts resolveTarget), and --help. */
export const TARGET_OPTIONS = {
  'data-dir': { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  ca: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const TARGET_HELP = `Every subcommand talks to a running control plane through <data-dir>/admin.sock (owner-only),
or with --url <url> --token <token> --ca <ca.pem> over HTTPS.`;

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `<subcommand> [options]` of a command whose subcommands call the control plane's API: its
 * options with the target's, or the exit code once the help is printed (no subcommand: 2).
 */
export function subcommandArgs<O extends Options>(argv: string[], help: string, options: O) {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(help + '\n');
    return sub ? 0 : 2;
  }
  const parsed = parseArgs({ args: rest, allowPositionals: true, options: { ...TARGET_OPTIONS, ...options } as typeof TARGET_OPTIONS & O });
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(help + '\n');
    return 0;
  }
  return { sub, values: parsed.values, positionals: parsed.positionals };
}
