import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import type { EnrollmentTokenCreated, TokenCreated } from '../wire/tokens.js';
import type { Command } from './main.js';
import { TARGET_HELP, TARGET_OPTIONS } from './api-subcommand.js';
import { resolveTarget } from './target.js';

const HELP = `usage: berth token <create|enroll> [options]

  create --role <admin|operator|vendor:<name>> --name <who>
         an operator or vendor bearer token (shown once; only its hash is stored)
  enroll [--device-id <id>] [--label key=value ...] [--ttl <seconds>]
         a one-time enrollment token for onboarding one device (default ttl 3600)

${TARGET_HELP}`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  role: { type: 'string' },
  name: { type: 'string' },
  'device-id': { type: 'string' },
  label: { type: 'string', multiple: true },
  ttl: { type: 'string' },
} as const;

export const command: Command = {
  options: OPTIONS,
  subcommands: ['create', 'enroll'],
  async run(argv) {
    const [sub, ...rest] = argv;
    const { values } = parseArgs({
      args: rest,
      options: OPTIONS,
    });
    if (!sub || values.help || sub === '--help' || sub === '-h') {
      process.stdout.write(HELP + '\n');
      return sub ? 0 : 2;
    }
    const { adminCall } = await import('../orchestrator/admin/client.js');
    const target = await resolveTarget(values);
    if (sub === 'create') {
      if (!values.role || !values.name) throw new BerthError('cli.usage', 'token create needs --role and --name');
      const out: TokenCreated = await adminCall(target, 'POST', '/api/v1/admin/tokens', { role: values.role, name: values.name });
      process.stdout.write(`token ${out.id} (${out.role}); shown once:\n${out.token}\n`);
      return 0;
    }
    if (sub === 'enroll') {
      const labels: Record<string, string> = {};
      for (const l of values.label ?? []) {
        const eq = l.indexOf('=');
        if (eq < 1) throw new BerthError('cli.usage', `--label '${l}' is not key=value`);
        labels[l.slice(0, eq)] = l.slice(eq + 1);
      }
      const ttl = values.ttl === undefined ? 3600 : Number(values.ttl);
      if (!Number.isInteger(ttl)) throw new BerthError('cli.usage', `--ttl must be whole seconds, not '${values.ttl}'`);
      const out: EnrollmentTokenCreated = await adminCall(target, 'POST', '/api/v1/admin/enrollment-tokens', {
        ttlSeconds: ttl,
        ...(values['device-id'] ? { deviceId: values['device-id'] } : {}),
        ...(Object.keys(labels).length ? { labels } : {}),
      });
      process.stdout.write(
        `enrollment token ${out.id}${out.deviceId ? ` for device ${out.deviceId}` : ''}, expires ${out.expiresAt}; shown once:\n${out.token}\n`,
      );
      return 0;
    }
    throw new BerthError('cli.usage', `unknown subcommand '${sub}'; see berth token --help`);
  },
};
