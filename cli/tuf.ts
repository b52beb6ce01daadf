import { apiClient, subcommandArgs, TARGET_HELP, TARGET_OPTIONS } from './api-subcommand.js';
import type { Command } from './main.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, outputFormat, print } from './output.js';
import { UsageError } from './usage.js';
import type { TufStatus } from '../wire/tuf-admin.js';

const HELP = `usage: berth tuf <subcommand> [options]

The fleet's TUF repository (docs/tuf.md): trust roots signed by offline keys.

  init --keys <n> --threshold <t> --out <dir> [--expires-days <d>]
      make n root keys in <dir> (take it offline afterwards), and root version 1, signed by all
      of them, naming fresh online keys of the control plane; publish it
  rotate-online-keys --root-keys <dir> [--expires-days <d>]
      the next root, naming fresh online keys (after a theft, or on schedule), signed by the
      root keys in <dir> (at least the threshold); publish it
  rotate-root-keys --root-keys <dir> --keys <n> --threshold <t> --out <new dir> [--expires-days <d>]
      new root keys in <new dir> (a holder left, a key was lost): the next root names them, signed
      by a threshold of the keys in <dir> and by all the new ones; online keys renewed too
  status      each role's version and expiry, and the target files listed
${OUTPUT_HELP}

${TARGET_HELP}`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...OUTPUT_OPTIONS,
  keys: { type: 'string' },
  threshold: { type: 'string' },
  out: { type: 'string' },
  'root-keys': { type: 'string' },
  'expires-days': { type: 'string' },
} as const;

const SUBCOMMANDS = ['init', 'rotate-online-keys', 'rotate-root-keys', 'status'] as const;

export const command: Command = {
  subcommands: SUBCOMMANDS,
  options: OPTIONS,
  async run(argv) {
    const args = subcommandArgs(argv, HELP, OPTIONS);
    if (typeof args === 'number') return args;
    const { values } = args;
    const format = outputFormat(values.output);
    const expiresDays = values['expires-days'] === undefined ? undefined : wholeNumber('--expires-days', values['expires-days']);
    const ceremony = () => import('./tuf/ceremony.js');
    switch (args.sub) {
      case 'init': {
        const out = required('--out', values.out);
        const keys = wholeNumber('--keys', required('--keys', values.keys));
        const threshold = wholeNumber('--threshold', required('--threshold', values.threshold));
        const done = await (await ceremony()).initRepository(await apiClient(values), { keys, threshold, out, ...(expiresDays ? { expiresDays } : {}) });
        print(
          format,
          done,
          () =>
            `root version ${done.version} published (${threshold} of ${keys} keys); keys and ${done.rootFile} are in ${out}: take them offline\n` +
            `devices follow it with tuf.rootSha256: ${done.rootSha256} in their configuration\n`,
        );
        return 0;
      }
      case 'rotate-online-keys': {
        const dir = required('--root-keys', values['root-keys']);
        const done = await (await ceremony()).rotateOnlineKeys(await apiClient(values), dir, expiresDays);
        print(format, done, () => `root version ${done.version} published, naming new online keys; the old ones are retired\n`);
        return 0;
      }
      case 'rotate-root-keys': {
        const dir = required('--root-keys', values['root-keys']);
        const out = required('--out', values.out);
        const keys = wholeNumber('--keys', required('--keys', values.keys));
        const threshold = wholeNumber('--threshold', required('--threshold', values.threshold));
        const done = await (await ceremony()).rotateRootKeys(await apiClient(values), dir, { keys, threshold, out, ...(expiresDays ? { expiresDays } : {}) });
        print(
          format,
          done,
          () =>
            `root version ${done.version} published, naming ${threshold} of ${keys} new root keys in ${out}: take them offline; the old keys sign nothing from now on\n`,
        );
        return 0;
      }
      case 'status': {
        const status: TufStatus = await (await apiClient(values))('GET', '/api/v1/admin/tuf');
        print(format, status, () => statusText(status));
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand '${args.sub}'; ${SUBCOMMANDS.join(', ')}`);
    }
  },
};

function statusText(s: TufStatus): string {
  if (!s.root) return 'no TUF root yet: berth tuf init --keys 3 --threshold 2 --out <offline dir>\n';
  const lines = [`root       version ${s.root.version}, ${s.root.threshold} of ${s.root.keyids.length} keys, expires ${s.root.expires}`];
  for (const role of ['targets', 'snapshot', 'timestamp'] as const) {
    const r = s[role];
    lines.push(`${role.padEnd(10)} ${r ? `version ${r.version}, expires ${r.expires}` : 'not signed yet'}`);
  }
  lines.push(`targets:   ${s.targetPaths.join(', ') || 'none'}`);
  return lines.join('\n') + '\n';
}

function required(flag: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

function wholeNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number from 1, not '${value}'`);
  return n;
}
