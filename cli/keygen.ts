import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import { generateVendorKey } from '../trust/signing/keys.js';
import type { Command } from './main.js';

const HELP = `usage: berth keygen [--out <prefix>] [--force]

Creates a vendor signing key pair (ECDSA P-256, PEM): <prefix>.key (private, mode 0600) and
<prefix>.pub (public; give it to fleet operators for the vendor trust policy).

  --out <prefix>   file name prefix (default: vendor)
  --force          overwrite existing files`;

const OPTIONS = { out: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: OPTIONS });
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    const prefix = values.out ?? 'vendor';
    const key = generateVendorKey();
    const flag = values.force ? 'w' : 'wx';
    try {
      await writeFile(`${prefix}.key`, key.privateKeyPem, { mode: 0o600, flag });
      await writeFile(`${prefix}.pub`, key.publicKeyPem, { mode: 0o644, flag });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST')
        throw new BerthError('cli.exists', `${(err as NodeJS.ErrnoException).path} exists; use --force to overwrite`);
      throw new BerthError('cli.bad-file', `cannot write the key files: ${(err as Error).message}`);
    }
    process.stdout.write(`wrote ${prefix}.key (private, 0600) and ${prefix}.pub\nkey id ${key.keyId}\n`);
    return 0;
  },
};
