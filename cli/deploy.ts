import { BerthError } from '../common/errors.js';
import { grantsFromFlags } from '../host-apis/grant-flags.js';
import type { DeploymentCreated } from '../wire/deployment.js';
import { apiClient, subcommandArgs, TARGET_HELP, TARGET_OPTIONS } from './api-subcommand.js';
import { readYamlOrJsonFile } from './json-file.js';
import type { Command } from './main.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, outputFormat, print } from './output.js';
import { positiveInteger, UsageError } from './usage.js';

const HELP = `usage: berth deploy [<app> <version>] [options]

Creates a deployment: the body of POST /api/v1/admin/deployments (docs/deployments.md) from
--file, with the flags below laid over it, or from the flags alone.

  --file <deployment.yaml>   the deployment as YAML or JSON
  --id <id>                  the deployment's id (default: chosen by the control plane)
  --grant NAME[=VALUE]       a grant, as berth run takes it (repeatable; replaces the file's
                             grants; none at all: no grants)
  --device <id>              only this device (repeatable)
  --mode <every|spread>      every eligible device (default), or --replicas of them
  --replicas <n>
  --batch-size <n>           devices per wave of later rollouts (default 1)
  --tier <tier>
${OUTPUT_HELP}

${TARGET_HELP}`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...OUTPUT_OPTIONS,
  file: { type: 'string' },
  id: { type: 'string' },
  grant: { type: 'string', multiple: true },
  device: { type: 'string', multiple: true },
  mode: { type: 'string' },
  replicas: { type: 'string' },
  'batch-size': { type: 'string' },
  tier: { type: 'string' },
} as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    // `berth deploy --file x` has no positional: subcommandArgs wants a first word, so give it one.
    const args = subcommandArgs(argv.length === 0 ? argv : ['deploy', ...argv], HELP, OPTIONS);
    if (typeof args === 'number') return args;
    const { values, positionals } = args;
    const format = outputFormat(values.output);
    if (positionals.length !== 0 && positionals.length !== 2) throw new UsageError('deploy takes <app> <version>, or neither with --file');
    const body = deploymentOf(values, positionals as [] | [string, string]);
    const api = await apiClient(values);
    const created: DeploymentCreated = await api('POST', '/api/v1/admin/deployments', body);
    print(format, created, () => {
      // `unplaced` counts spread instances that found no eligible device (docs/deployments.md).
      const unplaced = created.unplaced ? `; ${created.unplaced} instance(s) found no eligible device` : '';
      return `deployment ${created.id}: ${created.appId} ${created.version} placed on ${created.placed.length} device(s)${unplaced}\n`;
    });
    return 0;
  },
};

interface DeployFlags {
  file?: string;
  id?: string;
  grant?: string[];
  device?: string[];
  mode?: string;
  replicas?: string;
  'batch-size'?: string;
  tier?: string;
}

/** The request body: the file's object, then each flag given; the control plane checks the rest. */
export function deploymentOf(v: DeployFlags, positionals: [] | [string, string]): Record<string, unknown> {
  const fromFile = v.file ? readYamlOrJsonFile(v.file) : {};
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile))
    throw new BerthError('cli.bad_file', `${v.file}: not a mapping of deployment fields`);
  const body: Record<string, unknown> = { ...fromFile };
  if (positionals.length === 2) [body.app, body.version] = positionals;
  if (!body.app || !body.version) throw new UsageError('deploy needs <app> <version> (or app and version in --file)');
  if (v.id) body.id = v.id;
  if (v.grant) {
    try {
      body.grants = grantsFromFlags(v.grant);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  body.grants ??= {};
  if (v.device) body.deviceIds = v.device;
  if (v.mode) body.mode = v.mode;
  const replicas = positiveInteger(v.replicas, 'replicas');
  if (replicas !== undefined) body.replicas = replicas;
  const batchSize = positiveInteger(v['batch-size'], 'batch-size');
  if (batchSize !== undefined) body.rollout = { batchSize };
  if (v.tier) body.tier = v.tier;
  return body;
}
