import { parseArgs } from 'node:util';
import { sha256Digest } from '../common/digest.js';
import { loadPrivateKey } from '../trust/signing/keys.js';
import { readInput, signaturePathFor, writeOutput } from '../trust/signing/files.js';
import { serializeBundle, signComponent } from '../trust/signing/sign.js';
import type { Command } from './main.js';

const HELP = `usage: berth sign <component.wasm> --key <vendor.key> [--out <file>]

Signs a component with a vendor key into a Sigstore bundle (v0.3, message signature over the
SHA-256 digest, public-key hint = key id). No transparency log is contacted.

  --key <file>    vendor private key (berth keygen)
  --out <file>    bundle file (default: <component>.sig.json)`;

export const command: Command = {
  summary: 'sign a component with a vendor key (Sigstore bundle)',
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { key: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (positionals.length !== 1 || !values.key) {
      process.stderr.write(`berth sign: ${positionals.length !== 1 ? 'give exactly one component file' : '--key is required'}\n\n${HELP}\n`);
      return 2;
    }
    const componentPath = positionals[0]!;
    const component = await readInput(componentPath, 'component');
    const key = loadPrivateKey((await readInput(values.key, 'signing key', 64 * 1024)).toString('utf8'), `signing key ${values.key}`);
    const out = values.out ?? signaturePathFor(componentPath);
    await writeOutput(out, serializeBundle(signComponent(component, key)), 'signature bundle');
    process.stdout.write(`signed ${sha256Digest(component)} → ${out}\n`);
    return 0;
  },
};
