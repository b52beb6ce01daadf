import { BerthError, errorMessage } from '../common/errors.js';
import { UsageError, type Options } from './usage.js';

/**
 * The berth command. Each subcommand lives in its own module, loaded only when named, so that
 * `berth inspect` does not pay for the control plane's dependencies.
 */
export interface Command {
  summary: string;
  /** Its subcommands, for shell completion (berth completion). */
  subcommands?: readonly string[];
  /** The option table it parses its flags with: completion offers these, never a second list. */
  options?: Options;
  /** A subcommand's own table where it differs from `options` (berth orchestrator start). */
  subcommandOptions?: Readonly<Record<string, Options>>;
  /** What its positional arguments name, per subcommand ('' for a command without), for completion. */
  operands?: Readonly<Record<string, Operand>>;
  run(argv: string[]): Promise<number>;
}

/** Things a positional argument can name that completion looks up: on the control plane, or in the config file. */
export type Operand = 'device' | 'deployment' | 'context';

const commands: Record<string, () => Promise<{ command: Command }>> = {
  inspect: () => import('./inspect.js'),
  run: () => import('./run.js'),
  demo: () => import('./demo.js'),
  device: () => import('./device.js'),
  identity: () => import('./identity.js'),
  wit: () => import('./wit.js'),
  new: () => import('./new.js'),
  build: () => import('./build.js'),
  attest: () => import('./attest.js'),
  keygen: () => import('./keygen.js'),
  pull: () => import('./pull.js'),
  push: () => import('./push.js'),
  registry: () => import('./registry.js'),
  sbom: () => import('./sbom.js'),
  sign: () => import('./sign.js'),
  'signing-cert': () => import('./signing-cert.js'),
  advisory: () => import('./advisory.js'),
  vex: () => import('./vex.js'),
  verify: () => import('./verify.js'),
  orchestrator: () => import('./orchestrator.js'),
  token: () => import('./token.js'),
  login: () => import('./login.js'),
  context: () => import('./context.js'),
  devices: () => import('./devices.js'),
  deploy: () => import('./deploy.js'),
  deployments: () => import('./deployments.js'),
  rollout: () => import('./rollout.js'),
  rollback: () => import('./rollback.js'),
  events: () => import('./events.js'),
  catalog: () => import('./catalog.js'),
  completion: () => import('./completion.js'),
};

/** The hidden command the shell completion scripts call, as cobra's `__complete`. */
export const COMPLETE_COMMAND = '__complete';

/** One command by name, loaded (undefined: no such command). */
export async function loadCommand(name: string): Promise<Command | undefined> {
  return Object.hasOwn(commands, name) ? (await commands[name]!()).command : undefined;
}

/** Every command by name, loaded: for completion scripts, which name them all. */
export async function allCommands(): Promise<[string, Command][]> {
  return Promise.all(
    Object.keys(commands)
      .sort()
      .map(async (name) => [name, (await commands[name]!()).command] as [string, Command]),
  );
}

function usage(): string {
  const lines = ['usage: berth <command> [options]', '', 'commands:'];
  for (const name of Object.keys(commands).sort()) lines.push(`  ${name}`);
  lines.push('', 'Run `berth <command> --help` for the options of one command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  // Hidden: what the completion scripts (berth completion) call on every <TAB>.
  if (name === COMPLETE_COMMAND) return (await import('./complete.js')).runComplete(rest);
  const load = commands[name];
  if (!load) {
    process.stderr.write(`berth: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  const { command } = await load();
  try {
    return await command.run(rest);
  } catch (err) {
    // Expected failures (bad input, refusals) print their message; anything else keeps its stack.
    // A command line that cannot run (exit 2) apart from a refusal (1); Node's parseArgs
    // complaints (an unknown option, a missing value) are of the first kind in every command.
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS_'))) {
      process.stderr.write(`berth ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof BerthError) {
      process.stderr.write(`berth ${name}: ${errorMessage(err)}\n`);
      return 1;
    }
    throw err;
  }
}
