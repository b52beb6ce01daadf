import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import { writeWitPackage } from '../runtime/wit-package.js';
import type { Command } from './main.js';

const HELP = `usage: berth wit <dir>

Writes the WIT an app is built against: Berth's berth:host package (host.wit: log, config,
keyvalue, identity, messaging, entry; worlds imports, app, http-app) and, under deps/, the
published WASI 0.2 packages it references. Existing files of the same names are overwritten.

Build against world berth:host/app (or berth:host/http-app), for example:
  wasm-tools component embed <dir> --world berth:host/app core.wasm -o embedded.wasm
  wit-bindgen / cargo component: WIT path <dir>, world berth:host/app
  JavaScript: componentize-js's componentize({ sourcePath, witPath: '<dir>', worldName:
    'berth:host/app' }) from Node, after _setPreopens({ '<dir>': '<dir>' }) from
    @bytecodealliance/preview2-shim/filesystem (the jco 1.35 \`componentize\` command cannot
    read a WIT folder with preview2-shim 0.26; see docs/fixtures.md)

Each import of the built component needs a grant where the app is deployed. componentize-js
keeps every import of its world, used or not: for JavaScript, write a world of your own that
imports only what the app uses (deps: this folder).`;

const OPTIONS = { help: { type: 'boolean', short: 'h' } } as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
    if (values.help) return (void process.stdout.write(HELP + '\n'), 0);
    const [dir] = positionals;
    if (!dir || positionals.length > 1) throw new BerthError('usage', `expected one output folder\n${HELP}`);
    const target = resolve(dir);
    const existing = await stat(target).catch(() => undefined);
    if (existing && !existing.isDirectory()) throw new BerthError('not-a-directory', `${dir} exists and is not a folder`);
    try {
      await writeWitPackage(target);
    } catch (err) {
      if (err instanceof BerthError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new BerthError('unwritable-folder', `cannot write the WIT folder ${dir}: ${code}`);
    }
    process.stdout.write(`wrote ${target}/host.wit and ${target}/deps/ (worlds: berth:host/app, berth:host/http-app)\n`);
    return 0;
  },
};
