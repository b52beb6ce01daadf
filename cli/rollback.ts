import type { DeploymentRolledBack } from '../wire/deployment.js';
import { apiClient, seg, subcommandArgs, TARGET_HELP, TARGET_OPTIONS } from './api-subcommand.js';
import type { Command } from './main.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, outputFormat, print } from './output.js';
import { expectArgs } from './usage.js';

const HELP = `usage: berth rollback <deployment-id> [options]

Moves every device of the deployment back to the version before its rollout, at once (not in
waves): while rolling, paused, or after it finished. Refused when there is nothing to go back to.
${OUTPUT_HELP}

${TARGET_HELP}`;

const OPTIONS = { ...TARGET_OPTIONS, ...OUTPUT_OPTIONS } as const;

export const command: Command = {
  options: OPTIONS,
  operands: { '': 'deployment' },
  async run(argv) {
    const args = subcommandArgs(argv.length === 0 ? argv : ['rollback', ...argv], HELP, OPTIONS);
    if (typeof args === 'number') return args;
    const [id] = expectArgs(args.positionals, 1, 'berth rollback <deployment-id>') as [string];
    const format = outputFormat(args.values.output);
    const api = await apiClient(args.values);
    const answer: DeploymentRolledBack = await api('POST', `/api/v1/admin/deployments/${seg(id)}/rollbacks`, {});
    print(format, answer, () => `deployment ${answer.deploymentId} rolled back to ${answer.version}\n`);
    return 0;
  },
};
