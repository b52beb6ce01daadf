import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../../common/paths.js';
import { buildJsComponents } from '../build/js-component.js';

/** The sample apps of the demo: sources in examples/demo/, one world each in demo.wit. */
export const DEMO_APPS = ['sensor', 'analytics'] as const;
export type DemoApp = (typeof DEMO_APPS)[number];

const EXAMPLES = (): string => join(projectRoot(), 'examples', 'demo');

async function packageVersion(name: string): Promise<string> {
  return (JSON.parse(await readFile(join(projectRoot(), 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** What the built bytes depend on: sources, WIT, and the toolchain versions. */
async function sourceKey(): Promise<string> {
  const h = createHash('sha256');
  for (const f of ['demo.wit', 'respond.js', ...DEMO_APPS.map((a) => `${a}.js`)]) h.update(f).update(await readFile(join(EXAMPLES(), f)));
  h.update(await readFile(join(projectRoot(), 'wit', 'host.wit')));
  h.update(await packageVersion('@bytecodealliance/componentize-js')).update(await packageVersion('esbuild'));
  return h.digest('hex').slice(0, 16);
}

/**
 * Builds the demo's components with componentize-js (tens of seconds each, so the result is kept
 * in `cacheDir` under a key of everything it depends on). The toolchain is a development
 * dependency: a production install cannot build them and says so.
 */
export async function buildDemoApps(cacheDir: string, onBuild: (app: DemoApp) => void = () => {}): Promise<Record<DemoApp, Uint8Array>> {
  const key = await sourceKey();
  const cached = (app: DemoApp): string => join(cacheDir, `${app}-${key}.wasm`);
  const missing = DEMO_APPS.filter((a) => !existsSync(cached(a)));
  if (missing.length > 0) {
    await mkdir(cacheDir, { recursive: true });
    const demoWit = await readFile(join(EXAMPLES(), 'demo.wit'), 'utf8');
    for (const app of missing) onBuild(app);
    const built = await buildJsComponents(
      missing.map((app) => ({ entry: join(EXAMPLES(), `${app}.js`), wit: { name: 'berth-demo', source: demoWit }, world: `berth:demo/${app}@0.1.0` })),
      cacheDir,
    );
    for (const [i, app] of missing.entries()) {
      const tmp = `${cached(app)}.${process.pid}.tmp`;
      await writeFile(tmp, built[i]!);
      await rename(tmp, cached(app));
    }
  }
  const out = {} as Record<DemoApp, Uint8Array>;
  for (const app of DEMO_APPS) out[app] = new Uint8Array(await readFile(cached(app)));
  return out;
}

/** Where `npm start` keeps the built apps between runs (inside node_modules: never committed). */
export const defaultDemoCache = (): string => join(projectRoot(), 'node_modules', '.cache', 'berth-demo');
