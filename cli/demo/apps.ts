import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../../common/errors.js';
import { projectRoot } from '../../common/paths.js';
import { writeWitPackage } from '../../runtime/wit-package.js';

/** The sample apps of the demo: sources in examples/demo/, one world each in demo.wit. */
export const DEMO_APPS = ['sensor', 'analytics'] as const;
export type DemoApp = (typeof DEMO_APPS)[number];

const EXAMPLES = (): string => join(projectRoot(), 'examples', 'demo');
/** Every optional componentize-js feature off: an app imports only what its world names. */
const ALL_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'] as const;

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
    let esbuild: typeof import('esbuild');
    let componentize: typeof import('@bytecodealliance/componentize-js').componentize;
    try {
      esbuild = await import('esbuild');
      ({ componentize } = await import('@bytecodealliance/componentize-js'));
    } catch {
      throw new BerthError(
        'demo.toolchain-missing',
        'building the demo apps needs the development dependencies (esbuild, @bytecodealliance/componentize-js): run `npm install` without --omit=dev',
      );
    }
    await mkdir(cacheDir, { recursive: true });
    const scratch = await mkdtemp(join(cacheDir, 'build-'));
    // componentize-js reads the WIT through preview2-shim's WASI file system, which sees only
    // its preopened folders (only build code touches the shim's process-wide preopens).
    const shim = (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as { _addPreopen(virtual: string, host: string): void };
    shim._addPreopen(scratch, scratch);
    try {
      const demoWit = await readFile(join(EXAMPLES(), 'demo.wit'), 'utf8');
      const witDir = await writeWitPackage(join(scratch, 'wit'), [{ name: 'berth-demo', source: demoWit }]);
      // Built in parallel: componentize-js spends most of its time in one core each.
      await Promise.all(
        missing.map(async (app) => {
          onBuild(app);
          const bundled = join(scratch, `${app}.bundle.js`);
          await esbuild.build({
            entryPoints: [join(EXAMPLES(), `${app}.js`)],
            bundle: true,
            format: 'esm',
            outfile: bundled,
            external: ['berth:*', 'wasi:*'],
            logLevel: 'silent',
          });
          const { component } = await componentize({
            sourcePath: bundled,
            witPath: witDir,
            worldName: `berth:demo/${app}@0.1.0`,
            disableFeatures: [...ALL_FEATURES],
          });
          const tmp = `${cached(app)}.${process.pid}.tmp`;
          await writeFile(tmp, component);
          await rename(tmp, cached(app));
        }),
      );
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  const out = {} as Record<DemoApp, Uint8Array>;
  for (const app of DEMO_APPS) out[app] = new Uint8Array(await readFile(cached(app)));
  return out;
}

/** Where `npm start` keeps the built apps between runs (inside node_modules: never committed). */
export const defaultDemoCache = (): string => join(projectRoot(), 'node_modules', '.cache', 'berth-demo');
