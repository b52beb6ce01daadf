import { createRequire } from 'node:module';
import { BerthError } from './errors.js';

/**
 * A package that a device install (`npm ci --omit=dev`, docs/engine.md) leaves out, and the part
 * of Berth that needs it. Such a package is only ever loaded through `importOptional` or
 * `resolveOptional`, never by a static import, so that everything else loads without it
 * (test/agent/device-install.test.ts checks the agent's import graph).
 */
export interface OptionalPackage {
  /** The npm package name, e.g. `@bytecodealliance/jco`. */
  readonly name: string;
  /** What needs it, as the start of a sentence: "the jco engine". */
  readonly neededBy: string;
  /** A way to do without it, if there is one. */
  readonly instead?: string;
}

export const JCO: OptionalPackage = { name: '@bytecodealliance/jco', neededBy: 'the jco engine' };
export const PREVIEW2_SHIM: OptionalPackage = { name: '@bytecodealliance/preview2-shim', neededBy: 'building a component from WAT' };
export const CYCLONEDX: OptionalPackage = { name: '@cyclonedx/cyclonedx-library', neededBy: 'making SBOMs (berth sbom, docs/sbom.md)' };
export const PGLITE: OptionalPackage = {
  name: '@electric-sql/pglite',
  neededBy: "the control plane's embedded store (PGlite)",
  instead: 'or give the control plane a PostgreSQL server with --store-url',
};

/** The error for a package that is not installed, naming what needs it and how to get it. */
export function missingPackage(pkg: OptionalPackage, cause?: unknown): BerthError {
  return new BerthError(
    'package-missing',
    `${pkg.neededBy} needs ${pkg.name}, which is not installed (a device install, \`npm ci --omit=dev\`, leaves it out): run \`npm install\` without --omit=dev${pkg.instead ? `, ${pkg.instead}` : ''} (docs/engine.md)`,
    { package: pkg.name },
    { cause },
  );
}

/**
 * Node's "not found" for this package itself. A package that is present but lacks one of its
 * own dependencies is a broken install, not a missing part, and keeps its own error.
 */
function isNotFound(err: unknown, pkg: OptionalPackage): boolean {
  if (!(err instanceof Error) || !('code' in err)) return false;
  if (err.code !== 'ERR_MODULE_NOT_FOUND' && err.code !== 'MODULE_NOT_FOUND') return false;
  return err.message.includes(`'${pkg.name}'`) || err.message.includes(`'${pkg.name}/`);
}

/** `await import(specifier)` of `pkg` (or a subpath of it), with a BerthError if it is not installed. */
export async function importOptional<T>(pkg: OptionalPackage, specifier: string = pkg.name): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (err) {
    throw isNotFound(err, pkg) ? missingPackage(pkg, err) : err;
  }
}

/** The file `specifier` (of `pkg`) resolves to from the module at `fromUrl`, or a BerthError if `pkg` is not installed. */
export function resolveOptional(pkg: OptionalPackage, fromUrl: string, specifier: string = pkg.name): string {
  try {
    return createRequire(fromUrl).resolve(specifier);
  } catch (err) {
    throw isNotFound(err, pkg) ? missingPackage(pkg, err) : err;
  }
}
