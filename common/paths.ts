import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/**
 * The folder holding Berth's package.json. Code runs both from TypeScript sources (tests) and
 * from dist/ (the berth command, workers), so paths to shipped files (wit/, dist/) are taken
 * from here rather than from a fixed number of `..`.
 */
export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'berth') return (cachedRoot = dir);
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the berth package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** A compiled file under dist/, e.g. `distPath('runtime/sandbox/worker-main.js')`. */
export function distPath(relative: string): string {
  return join(projectRoot(), 'dist', relative);
}

export interface BerthPackageJson {
  name: string;
  version: string;
  license: string;
}

let cachedPackage: BerthPackageJson | undefined;

/** Berth's own package.json: its version and license, for what names Berth (its SBOMs). */
export function berthPackageJson(): BerthPackageJson {
  cachedPackage ??= JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as BerthPackageJson;
  return cachedPackage;
}
