import { BerthError, errorMessage } from '../common/errors.js';
import { UsageError, type Options } from './usage.js';

/**
 * The berth command. Each subcommand lives in its own module, loaded only when named, so that
 * `berth inspect` does not pay for the control plane's dependencies.
 */
export interface Command {
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

/** Every command: its one-line summary (help, completion) and how to load it, only when named. */
const commands: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  inspect: { summary: 'show what a component is and what it imports', load: () => import('./inspect.js') },
  run: { summary: 'run a component locally with the given grants', load: () => import('./run.js') },
  demo: { summary: "run the whole system on this machine: control plane, two devices, two vendors' signed apps", load: () => import('./demo.js') },
  device: { summary: 'run the device agent (onboarding, signed desired state, apps, status)', load: () => import('./device.js') },
  identity: { summary: 'verify a workload identity token offline', load: () => import('./identity.js') },
  wit: { summary: 'write the WIT folder (berth:host + WASI) that apps are built against', load: () => import('./wit.js') },
  new: { summary: 'start a new app project from a template (JavaScript, C)', load: () => import('./new.js') },
  build: { summary: 'build the app project here into a component (berth new makes one)', load: () => import('./build.js') },
  attest: { summary: 'sign SLSA provenance for a component (in-toto statement in DSSE)', load: () => import('./attest.js') },
  keygen: { summary: 'create a vendor signing key pair (ECDSA P-256)', load: () => import('./keygen.js') },
  pull: { summary: 'pull a component and its signatures by digest', load: () => import('./pull.js') },
  push: { summary: 'push a signed component to an OCI registry', load: () => import('./push.js') },
  registry: { summary: 'run the embedded OCI registry (demo, tests, small sites)', load: () => import('./registry.js') },
  sbom: { summary: 'write the CycloneDX SBOM of a component, or of Berth itself', load: () => import('./sbom.js') },
  sign: { summary: 'sign a component with a vendor key (Sigstore bundle)', load: () => import('./sign.js') },
  'signing-cert': { summary: 'get a short-lived code-signing certificate from the control plane (fleet signing CA)', load: () => import('./signing-cert.js') },
  advisory: { summary: 'file and read security advisories that warn, block, stop or roll back affected versions', load: () => import('./advisory.js') },
  vex: { summary: 'state, import and export VEX: which versions an advisory does not affect', load: () => import('./vex.js') },
  verify: { summary: 'verify a component against a vendor trust policy', load: () => import('./verify.js') },
  orchestrator: { summary: 'run the control plane and manage devices, onboarding and the fleet CA', load: () => import('./orchestrator.js') },
  tuf: { summary: "the fleet's TUF repository: offline root keys, online key rotation, status", load: () => import('./tuf.js') },
  token: { summary: 'create operator tokens and device enrollment tokens', load: () => import('./token.js') },
  login: { summary: 'check credentials against a control plane and save them as the current context', load: () => import('./login.js') },
  context: { summary: 'list, switch and delete the control planes saved by berth login', load: () => import('./context.js') },
  devices: { summary: 'list, show, approve, deny and revoke devices', load: () => import('./devices.js') },
  deploy: { summary: 'deploy an app version to the fleet, from flags or a YAML/JSON file', load: () => import('./deploy.js') },
  deployments: { summary: 'list, show and delete deployments', load: () => import('./deployments.js') },
  rollout: { summary: 'start, follow, pause and resume rolling updates of a deployment', load: () => import('./rollout.js') },
  rollback: { summary: 'roll a deployment back to the version before its rollout', load: () => import('./rollback.js') },
  events: { summary: 'read and follow the audit log', load: () => import('./events.js') },
  catalog: { summary: 'read and add to the catalog: vendors, apps and admitted versions', load: () => import('./catalog.js') },
  completion: { summary: 'print a shell completion script (bash, zsh or fish)', load: () => import('./completion.js') },
};

/** The hidden command the shell completion scripts call, as cobra's `__complete`. */
export const COMPLETE_COMMAND = '__complete';

/** One command by name, loaded (undefined: no such command). */
export async function loadCommand(name: string): Promise<Command | undefined> {
  return Object.hasOwn(commands, name) ? (await commands[name]!.load()).command : undefined;
}

/** Every command's name and summary, sorted, without loading any: the first word's completion. */
export function commandSummaries(): { name: string; summary: string }[] {
  return Object.keys(commands)
    .sort()
    .map((name) => ({ name, summary: commands[name]!.summary }));
}

function usage(): string {
  const lines = ['usage: berth <command> [options]', '', 'commands:'];
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  for (const { name, summary } of commandSummaries()) lines.push(`  ${name.padEnd(width)}  ${summary}`);
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
  const load = Object.hasOwn(commands, name) ? commands[name]!.load : undefined;
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
