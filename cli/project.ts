import { access, readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BerthError } from '../common/errors.js';
import { parseGrants } from '../host-apis/grants.js';
import { NAME_PATTERN } from '../wire/ids.js';
import { parse as parseSemver } from 'semver';

/** The file `berth new` writes and `berth build` reads, at a project's root. */
export const PROJECT_FILE = 'berth.yaml';

/** A WIT identifier (kebab-case words, each starting with a letter): app names become WIT package names. */
export const WIT_NAME = /^[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$/;

const projectSchema = z.strictObject({
  app: z
    .string()
    .regex(NAME_PATTERN, 'an app id (lower-case letters, digits, dashes)')
    .regex(WIT_NAME, 'kebab-case words, each starting with a letter (it names the WIT package)'),
  vendor: z.string().regex(NAME_PATTERN, 'a vendor name (lower-case letters, digits, dashes)'),
  version: z.string().refine((v) => parseSemver(v) !== null, 'SemVer, as 1.2.0'),
  /** The entry module, relative to the project. */
  source: z.string().min(1),
  /** JavaScript: the world in wit/world.wit that the app is built for (a C app is a WASI command). */
  world: z.string().regex(WIT_NAME, 'a WIT world name').optional(),
  /** The grants a deployment gives it, as a deployment spells them (docs/grants.md): `berth run` uses them too. */
  grants: z.record(z.string(), z.unknown()).default({}),
});
export type Project = z.infer<typeof projectSchema> & { root: string; language: ProjectLanguage };

/** What builds a project, read off its source's extension. */
export type ProjectLanguage = 'javascript' | 'c';
const LANGUAGES: Record<string, ProjectLanguage> = { '.js': 'javascript', '.mjs': 'javascript', '.c': 'c' };

const PACKAGE_LINE = /^\s*package\s+([a-z][a-z0-9-]*:[a-z][a-z0-9-]*)(@[0-9A-Za-z.+-]+)?\s*;/m;

/** The fully named world a project builds for, from the package line of its wit/world.wit. */
export function worldName(p: Project, worldWit: string): string {
  const m = PACKAGE_LINE.exec(worldWit);
  if (!m) throw new BerthError('project.bad_wit', 'wit/world.wit has no `package namespace:name@version;` line');
  return `${m[1]}/${p.world ?? 'app'}${m[2] ?? ''}`;
}

/** Vendor names may hold digits first or dashes that WIT namespaces refuse; those get a prefix. */
export function witNamespace(vendor: string): string {
  return WIT_NAME.test(vendor) ? vendor : `v-${vendor.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
}

/** Reads `berth.yaml` in `dir` (or above it: run from a sub-folder as from the root). */
export async function readProject(dir: string): Promise<Project> {
  const root = await findRoot(resolve(dir));
  const file = join(root, PROJECT_FILE);
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new BerthError('project.bad_file', `${file} is not YAML: ${(err as Error).message}`);
  }
  const result = projectSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`);
    throw new BerthError('project.bad_file', `${file}: ${issues.join('; ')}`);
  }
  const language = LANGUAGES[extname(result.data.source)];
  if (!language) throw new BerthError('project.bad_file', `${file}: source: ${result.data.source} is neither JavaScript (.js, .mjs) nor C (.c)`);
  if (language === 'javascript' && !result.data.world)
    throw new BerthError('project.bad_file', `${file}: world: a JavaScript app names the world in wit/world.wit it is built for`);
  try {
    parseGrants(result.data.grants);
  } catch (err) {
    throw new BerthError('project.bad_grants', `${file}: grants: ${(err as Error).message}`);
  }
  return { ...result.data, root, language };
}

async function findRoot(start: string): Promise<string> {
  for (let dir = start; ; dir = dirname(dir)) {
    const found = await access(join(dir, PROJECT_FILE)).then(
      () => true,
      () => false,
    );
    if (found) return dir;
    if (dirname(dir) === dir) throw new BerthError('project.not_found', `no ${PROJECT_FILE} in ${start} or any folder above it (berth new writes one)`);
  }
}
