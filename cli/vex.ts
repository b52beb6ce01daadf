import { BerthError } from '../common/errors.js';
import { readJsonFile } from './json-file.js';
import { subcommandArgs, TARGET_HELP, TARGET_OPTIONS } from './api-subcommand.js';
import type { Command } from './main.js';
import { DATA_OUTPUT_HELP, dataFormat, OUTPUT_OPTIONS, print } from './output.js';

const HELP = `usage: berth vex <subcommand> [options]

  state <advisory-id>        a vendor's statement about one version of its app
    --app <app> --version <version>
    --status <s>             not_affected, affected, fixed or under_investigation
    --justification <j>      required with not_affected (OpenVEX or CycloneDX vocabulary)
    --detail <text>          the impact statement
  import <vex.json>          an OpenVEX or CycloneDX VEX document: all its statements or none
  export <advisory-id>       the advisory's statements as a document on stdout
    --format <f>             openvex (default), cyclonedx or berth
${DATA_OUTPUT_HELP}

${TARGET_HELP} (docs/vulnerability-response.md)`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...OUTPUT_OPTIONS,
  app: { type: 'string' },
  version: { type: 'string' },
  status: { type: 'string' },
  justification: { type: 'string' },
  detail: { type: 'string' },
  format: { type: 'string' },
} as const;

export const command: Command = {
  options: OPTIONS,
  subcommands: ['state', 'import', 'export'],
  async run(argv) {
    const args = subcommandArgs(argv, HELP, OPTIONS);
    if (typeof args === 'number') return args;
    const { sub, values, positionals } = args;
    const output = dataFormat(values.output);
    if (positionals.length !== 1) throw new BerthError('cli.usage', `${sub} takes one argument; see berth vex --help`);
    const [arg] = positionals as [string];
    const { adminCall } = await import('../orchestrator/admin/client.js');
    const { resolveTarget } = await import('./target.js');
    const target = await resolveTarget(values);
    let out: unknown;
    switch (sub) {
      case 'state': {
        for (const flag of ['app', 'version', 'status'] as const) if (!values[flag]) throw new BerthError('cli.usage', `state needs --${flag}`);
        const statement = {
          app: values.app,
          version: values.version,
          status: values.status,
          ...(values.justification ? { justification: values.justification } : {}),
          ...(values.detail ? { detail: values.detail } : {}),
        };
        out = await adminCall(target, 'PUT', `/api/v1/advisories/${encodeURIComponent(arg)}/vex`, { statements: [statement] });
        break;
      }
      case 'import':
        out = await adminCall(target, 'POST', '/api/v1/vex', readJsonFile(arg));
        break;
      case 'export':
        out = await adminCall(target, 'GET', `/api/v1/advisories/${encodeURIComponent(arg)}/vex?format=${encodeURIComponent(values.format ?? 'openvex')}`);
        break;
      default:
        throw new BerthError('cli.usage', `unknown subcommand '${sub}'; see berth vex --help`);
    }
    print(output, out, () => ''); // json or yaml: no table to draw
    return 0;
  },
};
