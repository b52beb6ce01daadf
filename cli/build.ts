import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { BerthError } from '../common/errors.js';
import { inspectComponent } from '../runtime/component/inspect.js';
import { buildJsComponents } from './build/js-component.js';
import type { Command } from './main.js';
import { readProject, worldName, type Project } from './project.js';
import { buildCComponent } from './build/c-component.js';

const HELP = `usage: berth build [DIR] [--out FILE]

Builds the app project in DIR (default: here, or the nearest folder above with a berth.yaml)
into a WebAssembly component: dist/<app>.wasm (JavaScript with componentize-js, C with
clang and wasi-libc). Prints its digest, size and imports; each import
needs a grant where the app runs (berth.yaml's grants say which).

  --out FILE   where to write the component (default: dist/<app>.wasm in the project)`;

const OPTIONS = { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: OPTIONS,
    });
    if (values.help) return (void process.stdout.write(HELP + '\n'), 0);
    if (positionals.length > 1) throw new BerthError('usage', `expected at most one project folder\n${HELP}`);
    const project = await readProject(positionals[0] ?? '.');
    const t0 = Date.now();
    const component = project.language === 'c' ? await buildC(project) : await buildJs(project);
    const out = values.out ?? join(project.root, 'dist', `${project.app}.wasm`);
    await mkdir(join(out, '..'), { recursive: true });
    await writeFile(`${out}.tmp`, component);
    await rename(`${out}.tmp`, out);
    const described = inspectComponent(component);
    process.stdout.write(
      `built ${relative(process.cwd(), out) || out} in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${described.digest}, ${component.length} bytes\n` +
        `imports: ${described.imports.join(', ') || '(none)'}\n`,
    );
    return 0;
  },
};

async function buildJs(project: Project): Promise<Uint8Array> {
  const witFile = join(project.root, 'wit', 'world.wit');
  const worldWit = await readFile(witFile, 'utf8').catch(() => {
    throw new BerthError('project.bad_wit', `cannot read ${witFile}: the app's world (berth new writes one)`);
  });
  const world = worldName(project, worldWit);
  process.stderr.write(`building ${project.vendor}/${project.app} ${project.version} for ${world} (componentize-js, about a minute)...\n`);
  const [component] = await buildJsComponents([{ entry: join(project.root, project.source), wit: { name: 'app', source: worldWit }, world }], project.root);
  return component!;
}

async function buildC(project: Project): Promise<Uint8Array> {
  process.stderr.write(`building ${project.vendor}/${project.app} ${project.version} (clang, wasi-libc)...\n`);
  const scratch = await mkdtemp(join(project.root, '.build-'));
  try {
    return await buildCComponent(join(project.root, project.source), scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
