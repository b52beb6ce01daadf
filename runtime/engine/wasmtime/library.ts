import { rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { BerthError, errorCode, errorMessage } from '../../../common/errors.js';
import { sha256OfFile } from './file-hash.js';
import { LIBRARY_FILE, pinFor, pinnedPlatforms, type WasmtimeLibraryPin } from './pin.js';
import { pythonPackageLibrary } from './python-package.js';
import { fetchLibraryInto, type FetchedLibrary } from './wheel-fetch.js';

/** The environment variable naming a library file; a path in config comes before it. */
export const LIBRARY_ENV = 'BERTH_WASMTIME_LIBRARY';

export type WasmtimeLibrarySource = 'config' | 'env' | 'cache' | 'python' | 'fetched';
/** A library whose sha256 matched the pin when it was found; `path` is absolute. */
export interface WasmtimeLibrary {
  path: string;
  source: WasmtimeLibrarySource;
  sha256: string;
}
export type WasmtimeLibraryLookup = WasmtimeLibrary | { missing: string };

export interface LocateWasmtimeOptions {
  /** A library path from Berth's config: used (and must match the pin) whatever else exists. */
  path?: string;
  /** Read for BERTH_WASMTIME_LIBRARY, XDG_CACHE_HOME and HOME, and given to python and pip. */
  env?: NodeJS.ProcessEnv;
  /** Berth's cache folder; the library is kept at `<cacheRoot>/wasmtime/<version>/_libwasmtime.so`. */
  cacheRoot?: string;
  /** Download the pinned wheel with pip when no verified library is on the machine. */
  fetch?: boolean;
  /** The Python that answers where its `wasmtime` package is and that runs pip; default `python3`. */
  python?: string;
  platform?: NodeJS.Platform;
  arch?: string;
}

/** `$XDG_CACHE_HOME/berth`, else `~/.cache/berth` (the XDG spec ignores a relative XDG_CACHE_HOME). */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg && isAbsolute(xdg) ? join(xdg, 'berth') : join(env.HOME || homedir(), '.cache', 'berth');
}

export function cachedLibraryPath(cacheRoot: string, pin: WasmtimeLibraryPin): string {
  return join(cacheRoot, 'wasmtime', pin.version, LIBRARY_FILE);
}

/**
 * Finds the pinned Wasmtime library: a configured path or BERTH_WASMTIME_LIBRARY, else Berth's
 * cache, else an installed Python `wasmtime` package, else (with `fetch`) the wheel from pip.
 * Every candidate's sha256 is checked before it is returned. A named file that does not match
 * is an error; anything else that does not match is passed over and said in `missing`.
 */
export async function locateWasmtimeLibrary(options: LocateWasmtimeOptions = {}): Promise<WasmtimeLibraryLookup> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const pin = pinFor(platform, arch);
  if (!pin) return { missing: `no Wasmtime library: Berth pins one for ${pinnedPlatforms()} only, and this is ${platform} ${arch}` };
  if (options.path) return named(options.path, 'config', 'the configured Wasmtime library', pin);
  if (env[LIBRARY_ENV]) return named(env[LIBRARY_ENV], 'env', LIBRARY_ENV, pin);

  const notes: string[] = [];
  const target = cachedLibraryPath(options.cacheRoot ?? defaultCacheRoot(env), pin);
  const cached = await fromCache(target, pin, notes);
  if (cached) return cached;
  const python = options.python ?? 'python3';
  const fromPython = await pythonPackage(python, env, pin, notes);
  if (fromPython) return fromPython;
  if (!options.fetch) return missing([...notes, 'fetching is off']);
  const fetched = await fetchOnce(target, python, env, pin);
  if ('missing' in fetched) return missing([...notes, fetched.missing]);
  return { path: fetched.path, source: 'fetched', sha256: fetched.sha256 };
}

function missing(notes: string[]): { missing: string } {
  return { missing: `no Wasmtime library: ${notes.join('; ')}. Set ${LIBRARY_ENV} to the pinned ${LIBRARY_FILE} or run \`npm run fetch-wasmtime\`` };
}

/** A file someone named: absolute (so loading it never searches the library path) and exactly the pin. */
async function named(path: string, source: 'config' | 'env', what: string, pin: WasmtimeLibraryPin): Promise<WasmtimeLibrary> {
  const absolute = resolve(path);
  let sha256: string;
  try {
    sha256 = await sha256OfFile(absolute);
  } catch (err) {
    throw new BerthError('wasmtime-library-unreadable', `${what} ${absolute} cannot be read: ${errorMessage(err)}`, { path: absolute });
  }
  if (sha256 !== pin.librarySha256) {
    throw new BerthError(
      'wasmtime-library-hash',
      `${what} ${absolute} has sha256 ${sha256}, but Wasmtime ${pin.version} is pinned to ${pin.librarySha256}: refused`,
      { path: absolute, expected: pin.librarySha256, actual: sha256 },
    );
  }
  return { path: absolute, source, sha256 };
}

/** The cached library if it still matches; a file that does not is removed so a fetch replaces it. */
async function fromCache(target: string, pin: WasmtimeLibraryPin, notes: string[]): Promise<WasmtimeLibrary | undefined> {
  let sha256: string;
  try {
    sha256 = await sha256OfFile(target);
  } catch (err) {
    notes.push(errorCode(err, '') === 'ENOENT' ? `none in the cache (${target})` : `the cached ${target} cannot be read: ${errorMessage(err)}`);
    return undefined;
  }
  if (sha256 === pin.librarySha256) return { path: resolve(target), source: 'cache', sha256 };
  await rm(target, { force: true }).then(
    () => notes.push(`the cached ${target} had sha256 ${sha256}, pinned ${pin.librarySha256}: removed`),
    (err: unknown) => notes.push(`the cached ${target} had sha256 ${sha256}, pinned ${pin.librarySha256}, and cannot be removed: ${errorMessage(err)}`),
  );
  return undefined;
}

/** The library of an installed Python `wasmtime` package, if it is the pinned one; else why not. */
async function pythonPackage(python: string, env: NodeJS.ProcessEnv, pin: WasmtimeLibraryPin, notes: string[]): Promise<WasmtimeLibrary | undefined> {
  const found = await pythonPackageLibrary(python, env, pin);
  if ('missing' in found) return void notes.push(found.missing);
  try {
    const sha256 = await sha256OfFile(found.path);
    if (sha256 === pin.librarySha256) return { path: resolve(found.path), source: 'python', sha256 };
    notes.push(`the Python package's ${found.path} has sha256 ${sha256}, pinned ${pin.librarySha256}: skipped`);
  } catch (err) {
    notes.push(`the Python package's ${found.path} cannot be read: ${errorMessage(err)}`);
  }
  return undefined;
}

// Two callers in one process asking at once share one download.
const fetching = new Map<string, Promise<FetchedLibrary>>();

function fetchOnce(target: string, python: string, env: NodeJS.ProcessEnv, pin: WasmtimeLibraryPin): Promise<FetchedLibrary> {
  let pending = fetching.get(target);
  if (!pending) {
    pending = fetchLibraryInto(target, python, env, pin)
      .catch((err: unknown): FetchedLibrary => ({ missing: `fetching the wasmtime wheel failed: ${errorMessage(err)}` }))
      .finally(() => fetching.delete(target));
    fetching.set(target, pending);
  }
  return pending;
}
