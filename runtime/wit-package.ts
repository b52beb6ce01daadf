import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../common/errors.js';
import { projectRoot } from '../common/paths.js';

/** An extra WIT package to place beside Berth's own, e.g. a test package with its own worlds. */
export interface ExtraWitPackage {
  /** Folder name under `deps/`: lowercase letters, digits and dashes. */
  name: string;
  /** The package's WIT text (it may `use`/`import` berth:host and WASI). */
  source: string;
}

const EXTRA_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const WASI_REFERENCE = /\bwasi:[a-z][a-z0-9-]*\/[a-z][a-z0-9-]*@(\d+\.\d+\.\d+)/g;

/** Where jco ships the published WASI WIT packages, one folder per version. */
function shippedWasiRoot(): string {
  return join(projectRoot(), 'node_modules', '@bytecodealliance', 'jco', 'lib', 'wit', 'builtin');
}

/** The one WASI version host.wit references; Berth's package pins a single version. */
function referencedWasiVersion(hostWit: string): string {
  const versions = new Set([...hostWit.matchAll(WASI_REFERENCE)].map((m) => m[1] as string));
  if (versions.size !== 1) {
    throw new BerthError('WIT_WASI_VERSION', `wit/host.wit must reference exactly one WASI version, found: ${[...versions].join(', ') || 'none'}`);
  }
  return [...versions][0] as string;
}

/**
 * Writes a WIT folder that WIT tooling (wasm-tools, jco, componentize-js, cargo-component,
 * wit-bindgen) resolves on its own: Berth's `berth:host` package at the top, and under `deps/`
 * copies (not symlinks: some tools refuse links that leave the folder) of the published WASI
 * packages that jco ships, plus any extra packages. Returns `outDir`.
 *
 * Files Berth writes are overwritten; anything else already in `outDir` is left alone.
 */
export async function writeWitPackage(outDir: string, extra: ExtraWitPackage[] = []): Promise<string> {
  const root = projectRoot();
  const hostWit = await readFile(join(root, 'wit', 'host.wit'), 'utf8');
  const version = referencedWasiVersion(hostWit);
  const wasiDir = join(shippedWasiRoot(), version);
  if (!existsSync(wasiDir)) {
    throw new BerthError('WIT_WASI_MISSING', `WASI ${version} WIT definitions not found at ${wasiDir} (is @bytecodealliance/jco installed?)`);
  }

  for (const pkg of extra) {
    if (!EXTRA_NAME.test(pkg.name) || pkg.name.startsWith('wasi-')) {
      throw new BerthError('WIT_EXTRA_NAME', `extra WIT package name '${pkg.name}' must be lowercase letters, digits and dashes, not starting with 'wasi-'`);
    }
  }

  await mkdir(join(outDir, 'deps'), { recursive: true });
  await writeFile(join(outDir, 'host.wit'), hostWit);

  // Copy every shipped WASI package of that version: they reference each other (http uses io,
  // clocks, random, cli), and a complete set resolves whatever subset a world pulls in.
  for (const entry of await readdir(wasiDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const target = join(outDir, 'deps', entry.name);
    await mkdir(target, { recursive: true });
    for (const file of await readdir(join(wasiDir, entry.name))) {
      if (file.endsWith('.wit')) await copyFile(join(wasiDir, entry.name, file), join(target, file));
    }
  }

  for (const pkg of extra) {
    const target = join(outDir, 'deps', pkg.name);
    await mkdir(target, { recursive: true });
    await writeFile(join(target, `${pkg.name}.wit`), pkg.source);
  }
  return outDir;
}
