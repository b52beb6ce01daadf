import { parseCommandLine, type Options } from './usage.js';
import type { TargetValues } from './target.js';

/** Where an operator command reaches the control plane (cli/target.ts resolveTarget), and --help. */
export const TARGET_OPTIONS = {
  'data-dir': { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  ca: { type: 'string' },
  context: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const TARGET_HELP = `Where the control plane is (the first that applies): --url <url> --token <token> --ca <ca.pem>
over HTTPS; --data-dir <dir> for its owner-only <dir>/admin.sock; --context <name>, $BERTH_CONTEXT
or the current context saved by berth login (docs/cli.md); else ./.berth/orchestrator/admin.sock.`;

/** `argv` with `sub` in front when it names no subcommand (`berth devices -o json` lists). */
export function orDefaultSubcommand(argv: string[], sub: string): string[] {
  return argv[0] === undefined || argv[0].startsWith('-') ? [sub, ...argv] : argv;
}

/**
 * `<subcommand> [options]` of a command whose subcommands call the control plane's API: its
 * options (TARGET_OPTIONS among them, so the table a command declares is the whole of its flags,
 * for completion too), or the exit code once the help is printed (no subcommand: 2).
 * An unknown option is a usage error (exit 2).
 */
export function subcommandArgs<O extends Options & typeof TARGET_OPTIONS>(argv: string[], help: string, options: O) {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(help + '\n');
    return sub ? 0 : 2;
  }
  const parsed = parseCommandLine(rest, options);
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(help + '\n');
    return 0;
  }
  return { sub, values: parsed.values, positionals: parsed.positionals };
}

/** One request to the control plane: the answer's body, or a BerthError with its problem (exit 1). */
export type ApiCall = (method: string, path: string, body?: unknown) => Promise<any>;

/** Calls to wherever the command's options point (cli/target.ts), loading the client only now. */
export async function apiClient(values: TargetValues): Promise<ApiCall> {
  const [{ adminCall }, { resolveTarget }] = await Promise.all([import('../orchestrator/admin/client.js'), import('./target.js')]);
  const target = await resolveTarget(values);
  return (method, path, body) => adminCall(target, method, path, body);
}

/** A path segment from a user's argument, so `a/b` stays one segment. */
export const seg = encodeURIComponent;
