import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import { readJsonFile } from './json-file.js';
import type { Command } from './main.js';

const HELP = `usage: berth vex <subcommand> [options]

  state <advisory-id>        a vendor's statement about one version of its app
    --app <app> --version <version>
    --status <s>             not_affected, affected, fixed or under_investigation
    --justification <j>      required with not_affected (OpenVEX or CycloneDX vocabulary)
    --detail <text>          the impact statement
  import <vex.json>          an OpenVEX or CycloneDX VEX document: all its statements or none
  export <advisory-id>       the advisory's statements as a document on stdout
    --format <f>             openvex (default), cyclonedx or berth

Every subcommand talks to a running control plane through <data-dir>/admin.sock (owner-only),
or with --url <url> --token <token> --ca <ca.pem> over HTTPS (docs/vulnerability-response.md).`;

export const command: Command = {
  summary: 'state, import and export VEX: which versions an advisory does not affect',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (!sub || sub === '--help' || sub === '-h') {
      process.stdout.write(HELP + '\n');
      return sub ? 0 : 2;
    }
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        ca: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        app: { type: 'string' },
        version: { type: 'string' },
        status: { type: 'string' },
        justification: { type: 'string' },
        detail: { type: 'string' },
        format: { type: 'string' },
      },
    });
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (positionals.length !== 1) throw new BerthError('cli.usage', `${sub} takes one argument; see berth vex --help`);
    const [arg] = positionals as [string];
    const { adminCall } = await import('../orchestrator/admin/client.js');
    const { resolveTarget } = await import('./orchestrator.js');
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
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  },
};
