import type { DeploymentRemoved, DeploymentsListed, DeploymentWithPlacements, RolloutShown } from '../wire/deployment.js';
import { apiClient, seg, orDefaultSubcommand, subcommandArgs, TARGET_HELP, TARGET_OPTIONS } from './api-subcommand.js';
import type { Command } from './main.js';
import { fields, OUTPUT_HELP, OUTPUT_OPTIONS, outputFormat, print, table } from './output.js';
import { expectArgs, UsageError } from './usage.js';

const HELP = `usage: berth deployments [subcommand] [options]

  list (default)        every deployment with its version and rollout
  show <id>             one deployment and the devices it is placed on
  delete <id>           remove a deployment from every device
${OUTPUT_HELP}

berth deploy creates deployments; berth rollout and berth rollback change their version.

${TARGET_HELP}`;

const OPTIONS = { ...TARGET_OPTIONS, ...OUTPUT_OPTIONS } as const;

export const command: Command = {
  options: OPTIONS,
  operands: { show: 'deployment', delete: 'deployment' },
  subcommands: ['list', 'show', 'delete'],
  async run(argv) {
    const args = subcommandArgs(orDefaultSubcommand(argv, 'list'), HELP, OPTIONS);
    if (typeof args === 'number') return args;
    const { sub, values, positionals } = args;
    const format = outputFormat(values.output);
    const api = await apiClient(values);
    switch (sub) {
      case 'list': {
        expectArgs(positionals, 0, 'berth deployments list');
        const answer: DeploymentsListed = await api('GET', '/api/v1/admin/deployments');
        print(format, answer, () =>
          table(answer.deployments, [
            { header: 'id', cell: (d) => d.id },
            { header: 'app', cell: (d) => d.appId },
            { header: 'version', cell: (d) => d.version },
            { header: 'rollout', cell: (d) => rolloutText(d) },
            { header: 'tier', cell: (d) => d.tier },
            { header: 'created', cell: (d) => d.createdAt },
          ]),
        );
        return 0;
      }
      case 'show': {
        const [id] = expectArgs(positionals, 1, 'berth deployments show <id>');
        const d: DeploymentWithPlacements = await api('GET', `/api/v1/admin/deployments/${seg(id!)}`);
        print(
          format,
          d,
          () =>
            fields([
              ['id', d.id],
              ['app', d.appId],
              ['version', d.version],
              ['rollout', rolloutText(d)],
              ['tier', d.tier],
              ['created', `${d.createdAt} by ${d.createdBy}`],
              ['devices', d.placements.length],
            ]) +
            (d.placements.length
              ? '\n' +
                table(d.placements, [
                  { header: 'device', cell: (p) => p.deviceId },
                  { header: 'version', cell: (p) => p.version },
                ])
              : ''),
        );
        return 0;
      }
      case 'delete': {
        const [id] = expectArgs(positionals, 1, 'berth deployments delete <id>');
        const answer: DeploymentRemoved = await api('DELETE', `/api/v1/admin/deployments/${seg(id!)}`);
        print(format, answer, () => `deployment ${answer.deploymentId} deleted; removed from ${answer.removedFrom.length} device(s)\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand '${sub}'; see berth deployments --help`);
    }
  },
};

/** `rolling 1.0.0 → 1.1.0`, `done`, `-`: a rollout in a few words. */
export function rolloutText(d: { version: string; rollout: RolloutShown }): string {
  const r = d.rollout;
  if (r.state === 'none') return '-';
  // While rolling or paused, `version` is the one being moved away from (docs/scheduling.md).
  if (r.state === 'rolling' || r.state === 'paused') return `${r.state} ${d.version} → ${r.targetVersion ?? '?'}`;
  return r.state;
}
