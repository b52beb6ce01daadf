import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import { NAME_PATTERN } from '../wire/ids.js';
import type { Command } from './main.js';
import { WIT_NAME, witNamespace } from './project.js';
import { cTemplate } from './templates/c.js';
import { jsTemplate } from './templates/js.js';
import type { ProjectTemplate } from './templates/template.js';

const TEMPLATES: readonly ProjectTemplate[] = [jsTemplate, cTemplate];

const HELP = `usage: berth new <template> <name> [--vendor NAME] [--dir DIR]

Writes a new app project: berth.yaml (the app, its version and the grants it needs), its WIT
world (JavaScript: wit/world.wit, against berth:host), a sample source, README and .gitignore. Then:
berth build, berth run, and docs/vendor-guide.md for signing, pushing and deploying.

templates:
${TEMPLATES.map((t) => `  ${t.name.padEnd(10)} ${t.summary}`).join('\n')}

  --vendor NAME   your vendor name in the fleet's catalog (default: local)
  --dir DIR       where to write it (default: ./<name>); must be empty or new`;

const OPTIONS = { vendor: { type: 'string' }, dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: OPTIONS,
    });
    if (values.help) return (void process.stdout.write(HELP + '\n'), 0);
    if (positionals.length !== 2) throw new BerthError('usage', `expected a template and a name\n${HELP}`);
    const [templateName, app] = positionals as [string, string];
    const template = TEMPLATES.find((t) => t.name === templateName);
    if (!template) throw new BerthError('usage', `no template '${templateName}'; templates: ${TEMPLATES.map((t) => t.name).join(', ')}`);
    if (!NAME_PATTERN.test(app) || !WIT_NAME.test(app))
      throw new BerthError('usage', `'${app}' cannot name an app: lower-case words of letters and digits joined by dashes, starting with a letter`);
    const vendor = values.vendor ?? 'local';
    if (!NAME_PATTERN.test(vendor)) throw new BerthError('usage', `'${vendor}' cannot name a vendor: lower-case letters, digits and dashes`);
    const missing = await template.available();
    if (missing) throw new BerthError('template.unavailable', `the ${template.name} template cannot be built here: ${missing}`);
    const dir = resolve(values.dir ?? app);
    await refuseNonEmpty(dir);
    const files = template.files({ app, vendor, namespace: witNamespace(vendor) });
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text, { flag: 'wx' });
    }
    process.stdout.write(
      `wrote ${vendor}/${app} (${template.name}) in ${dir}: ${Object.keys(files).join(', ')}\nnext: cd ${values.dir ?? app} && berth build\n`,
    );
    return 0;
  },
};

/** Never writes over someone's work: the folder must be new or empty. */
async function refuseNonEmpty(dir: string): Promise<void> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw new BerthError('new.bad_dir', `cannot use ${dir}: ${err.code ?? err.message}`);
  });
  if (entries.length > 0) throw new BerthError('new.not_empty', `${dir} is not empty; choose another --dir`);
}
