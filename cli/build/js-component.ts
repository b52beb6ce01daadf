import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../../common/errors.js';
import { writeWitPackage } from '../../runtime/wit-package.js';

/** Every optional componentize-js feature off: an app imports only what its world names. */
const ALL_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'] as const;

export interface JsComponentSource {
  /** The app's entry module; its imports of `berth:*` and `wasi:*` are the world's. */
  entry: string;
  /** The WIT package holding the app's world (its text), placed beside berth:host and WASI. */
  wit: { name: string; source: string };
  /** The world, fully named: `acme:hello/app@0.1.0`. */
  world: string;
}

interface Toolchain {
  esbuild: typeof import('esbuild');
  componentize: typeof import('@bytecodealliance/componentize-js').componentize;
}

/** The build toolchain: development dependencies a device install leaves out, so named when missing. */
async function toolchain(): Promise<Toolchain> {
  try {
    const esbuild = await import('esbuild');
    const { componentize } = await import('@bytecodealliance/componentize-js');
    return { esbuild, componentize };
  } catch {
    throw new BerthError(
      'build.toolchain_missing',
      'building JavaScript components needs esbuild and @bytecodealliance/componentize-js (development dependencies): run `npm install` without --omit=dev',
    );
  }
}

/**
 * Builds JavaScript components, one scratch folder for a batch. What it hides from a vendor:
 * the entry is bundled first (componentize-js takes one file), the WIT folder is written with
 * berth:host and WASI beside the app's own package, and componentize-js reads that folder
 * through preview2-shim's WASI file system, which sees only preopened folders — so the scratch
 * folder is preopened (a process-wide setting of the shim; only build code touches it).
 */
export async function buildJsComponents(sources: readonly JsComponentSource[], scratchParent: string): Promise<Uint8Array[]> {
  const { esbuild, componentize } = await toolchain();
  const scratch = await mkdtemp(join(scratchParent, 'build-'));
  const shim = (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as { _addPreopen(virtual: string, host: string): void };
  shim._addPreopen(scratch, scratch);
  try {
    // Built in parallel: componentize-js spends most of its time in one core each.
    return await Promise.all(
      sources.map(async (source, i) => {
        const witDir = await writeWitPackage(join(scratch, `wit-${i}`), [source.wit]);
        const bundled = join(scratch, `app-${i}.bundle.js`);
        await bundle(esbuild, source.entry, bundled);
        try {
          const { component } = await componentize({ sourcePath: bundled, witPath: witDir, worldName: source.world, disableFeatures: [...ALL_FEATURES] });
          return component;
        } catch (err) {
          throw new BerthError(
            'build.componentize_failed',
            `componentize-js could not build ${source.entry} for world ${source.world}: ${(err as Error).message}`,
          );
        }
      }),
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function bundle(esbuild: Toolchain['esbuild'], entry: string, outfile: string): Promise<void> {
  try {
    await esbuild.build({ entryPoints: [entry], bundle: true, format: 'esm', outfile, external: ['berth:*', 'wasi:*'], logLevel: 'silent' });
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors ?? [];
    const first = errors[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new BerthError('build.bundle_failed', `cannot bundle ${entry}: ${first?.text ?? (err as Error).message}${where}`);
  }
}
