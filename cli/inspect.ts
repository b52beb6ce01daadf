import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import { inspectComponent } from '../runtime/component/inspect.js';
import type { Command } from './main.js';

const HELP = `usage: berth inspect <component.wasm> [--json]

Prints the component's digest, size, imports and exports. Nothing is run.
  --json   one JSON object: {"digest","size","imports":[...],"exports":[...]}`;

const OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: OPTIONS,
    });
    if (values.help) return (void process.stdout.write(HELP + '\n'), 0);
    const [file] = positionals;
    if (!file || positionals.length > 1) throw new BerthError('usage', `expected one component file\n${HELP}`);
    const bytes = await readComponentFile(file);
    const info = inspectComponent(bytes);
    if (values.json) {
      process.stdout.write(JSON.stringify(info) + '\n');
      return 0;
    }
    const lines = [`digest   ${info.digest}`, `size     ${info.size} bytes`, 'imports'];
    for (const i of info.imports) lines.push(`  ${i}`);
    if (info.imports.length === 0) lines.push('  (none)');
    lines.push('exports');
    for (const e of info.exports) lines.push(`  ${e}`);
    if (info.exports.length === 0) lines.push('  (none)');
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};

export async function readComponentFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new BerthError('unreadable-file', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
