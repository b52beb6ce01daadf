import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BerthError } from '../../common/errors.js';
import { projectRoot } from '../../common/paths.js';
import { fileHashReads } from '../../runtime/engine/wasmtime/file-hash.js';
import { cachedLibraryPath, locateWasmtimeLibrary, type WasmtimeLibraryLookup } from '../../runtime/engine/wasmtime/library.js';
import { pinFor, WASMTIME_VERSION } from '../../runtime/engine/wasmtime/pin.js';
import { suiteTempDir } from '../support/tmp.js';

const pin = pinFor('linux', 'x64')!;
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The machine's environment without a library named in it (the developer's own must not leak in). */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('BERTH_WASMTIME_LIBRARY' in extra)) delete out.BERTH_WASMTIME_LIBRARY;
  return out;
}

/** A Python `wasmtime` package on PYTHONPATH whose library is `library` (a symlink) or garbage. */
function fakePythonPackage(version: string, library?: string): { site: string; libraryPath: string } {
  const site = suiteTempDir('wasmtime-site');
  const libraryDir = join(site, 'wasmtime', 'linux-x86_64');
  mkdirSync(libraryDir, { recursive: true });
  writeFileSync(join(site, 'wasmtime', '__init__.py'), 'raise ImportError("Berth must not import the package")\n');
  mkdirSync(join(site, `wasmtime-${version}.dist-info`));
  writeFileSync(join(site, `wasmtime-${version}.dist-info`, 'METADATA'), `Metadata-Version: 2.1\nName: wasmtime\nVersion: ${version}\n`);
  const libraryPath = join(libraryDir, '_libwasmtime.so');
  if (library) symlinkSync(library, libraryPath);
  else writeFileSync(libraryPath, 'not the pinned library');
  return { site, libraryPath };
}

/**
 * python3 as it is, except that it finds no `wasmtime` package (or, with `noPip`, no pip): the
 * fetch must be tested even on a machine where someone has since pip-installed wasmtime.
 */
function pythonWithoutWasmtime(pipIs: 'real' | 'absent' | 'serving a bogus wheel' = 'real'): string {
  const python = join(suiteTempDir('wasmtime-python'), 'python3');
  const fakes = {
    real: '',
    absent: 'echo "python3: No module named pip" >&2; exit 1',
    // `-d <dir>` is pip's last argument.
    // It also keeps the arguments pip was given, beside itself.
    'serving a bogus wheel': `echo "$*" > "${python}.args"; for last; do :; done; echo "not a wheel" > "$last/${pin.wheel}"; exit 0`,
  };
  const pip = fakes[pipIs] ? `if [ "$1" = -m ] && [ "$2" = pip ]; then ${fakes[pipIs]}; fi\n` : '';
  const probe = 'case "$2" in *find_spec*) echo \'{"origin": null, "version": null}\'; exit 0;; esac\n';
  writeFileSync(python, `#!/bin/sh\n${pip}${probe}exec python3 "$@"\n`);
  chmodSync(python, 0o755);
  return python;
}

const reasonOf = (found: WasmtimeLibraryLookup): string => ('missing' in found ? found.missing : `found ${found.path}`);

describe('locating the Wasmtime library', () => {
  // One real pip fetch (~9 s) for the whole file, into a cache that starts out corrupted.
  const cacheRoot = suiteTempDir('wasmtime-cache');
  const library = cachedLibraryPath(cacheRoot, pin);
  let fetched: WasmtimeLibraryLookup;
  beforeAll(async () => {
    mkdirSync(join(library, '..'), { recursive: true });
    writeFileSync(library, 'a corrupted download');
    fetched = await locateWasmtimeLibrary({ cacheRoot, fetch: true, python: pythonWithoutWasmtime(), env: env() });
  });

  it('replaces a corrupted cache file with the library from a fresh fetch of the pinned wheel, verified', () => {
    expect(fetched).toEqual({ path: library, source: 'fetched', sha256: pin.librarySha256 });
    expect(sha256(library)).toBe(pin.librarySha256);
    expect(statSync(library).mode & 0o777).toBe(0o644);
    expect(readdirSync(join(library, '..'))).toEqual(['_libwasmtime.so']);
    expect(library).toContain(join('wasmtime', WASMTIME_VERSION, '_libwasmtime.so'));
  });

  it('uses a verified cache file without fetching, and hashes it again only once it changes', async () => {
    const first = await locateWasmtimeLibrary({ cacheRoot, env: env() });
    expect(first).toEqual({ path: library, source: 'cache', sha256: pin.librarySha256 });
    const reads = fileHashReads();
    await locateWasmtimeLibrary({ cacheRoot, env: env() });
    expect(fileHashReads()).toBe(reads);
    utimesSync(library, new Date(), new Date(Date.now() - 60_000));
    await locateWasmtimeLibrary({ cacheRoot, env: env() });
    expect(fileHashReads()).toBe(reads + 1);
  });

  it('refuses a configured library whose hash is not the pin, naming the file and both hashes, even with a good cache', async () => {
    const wrong = join(suiteTempDir('wasmtime-wrong'), 'libwasmtime.so');
    writeFileSync(wrong, 'some other build');
    const attempt = locateWasmtimeLibrary({ path: wrong, cacheRoot, env: env() });
    await expect(attempt).rejects.toBeInstanceOf(BerthError);
    await expect(attempt).rejects.toMatchObject({
      code: 'wasmtime-library-hash',
      details: { path: wrong, expected: pin.librarySha256, actual: sha256(wrong) },
    });
    await expect(attempt).rejects.toThrow(new RegExp(`${wrong}.*${sha256(wrong)}.*${pin.librarySha256}`));
  });

  it('a configured path that does not exist is an error naming it, not a silent fallback', async () => {
    const absent = join(suiteTempDir('wasmtime-absent'), 'nothing.so');
    await expect(locateWasmtimeLibrary({ path: absent, cacheRoot, env: env() })).rejects.toMatchObject({
      code: 'wasmtime-library-unreadable',
      details: { path: absent },
    });
  });

  it('takes a configured library that matches, returned as an absolute path', async () => {
    const found = await locateWasmtimeLibrary({ path: relative(process.cwd(), library), cacheRoot: suiteTempDir('wasmtime-empty'), env: env() });
    expect(found).toEqual({ path: library, source: 'config', sha256: pin.librarySha256 });
  });

  it('honours BERTH_WASMTIME_LIBRARY, after a configured path, and refuses it when the hash differs', async () => {
    const empty = suiteTempDir('wasmtime-empty');
    expect(await locateWasmtimeLibrary({ cacheRoot: empty, env: env({ BERTH_WASMTIME_LIBRARY: library }) })).toEqual({
      path: library,
      source: 'env',
      sha256: pin.librarySha256,
    });
    const wrong = join(empty, 'other.so');
    writeFileSync(wrong, 'some other build');
    await expect(locateWasmtimeLibrary({ cacheRoot: empty, env: env({ BERTH_WASMTIME_LIBRARY: wrong }) })).rejects.toThrow(
      /BERTH_WASMTIME_LIBRARY .*other\.so has sha256/,
    );
    expect(await locateWasmtimeLibrary({ path: library, cacheRoot: empty, env: env({ BERTH_WASMTIME_LIBRARY: wrong }) })).toMatchObject({ source: 'config' });
  });

  it('uses an installed Python wasmtime package of the pinned version, found without importing it', async () => {
    const pkg = fakePythonPackage(WASMTIME_VERSION, library);
    const found = await locateWasmtimeLibrary({ cacheRoot: suiteTempDir('wasmtime-empty'), env: env({ PYTHONPATH: pkg.site }) });
    expect(found).toEqual({ path: pkg.libraryPath, source: 'python', sha256: pin.librarySha256 });
  });

  it('skips a Python package whose library does not match, or of another version, saying why', async () => {
    const tampered = fakePythonPackage(WASMTIME_VERSION);
    const skipped = reasonOf(await locateWasmtimeLibrary({ cacheRoot: suiteTempDir('wasmtime-empty'), env: env({ PYTHONPATH: tampered.site }) }));
    expect(skipped).toContain(`${tampered.libraryPath} has sha256 ${sha256(tampered.libraryPath)}, pinned ${pin.librarySha256}: skipped`);
    const older = fakePythonPackage('38.0.0', library);
    const other = reasonOf(await locateWasmtimeLibrary({ cacheRoot: suiteTempDir('wasmtime-empty'), env: env({ PYTHONPATH: older.site }) }));
    expect(other).toContain(`the Python package wasmtime is 38.0.0, Berth pins ${WASMTIME_VERSION}`);
  });

  it('has no library on a platform that is not pinned, and says which one is', async () => {
    for (const [platform, arch] of [
      ['darwin', 'arm64'],
      ['linux', 'arm64'],
      ['win32', 'x64'],
    ] as const) {
      const found = await locateWasmtimeLibrary({ path: library, platform, arch, fetch: true, cacheRoot, env: env() });
      expect(reasonOf(found)).toBe(`no Wasmtime library: Berth pins one for linux x86_64 only, and this is ${platform} ${arch}`);
    }
  });

  it('with nothing on the machine and fetching off, says what was looked at and how to get the library', async () => {
    const empty = suiteTempDir('wasmtime-empty');
    const reason = reasonOf(await locateWasmtimeLibrary({ cacheRoot: empty, python: 'berth-no-such-python', env: env() }));
    expect(reason).toMatch(/^no Wasmtime library: /);
    expect(reason).toContain(`none in the cache (${cachedLibraryPath(empty, pin)})`);
    expect(reason).toContain('berth-no-such-python is not installed');
    expect(reason).toContain('fetching is off');
    expect(reason).toContain('Set BERTH_WASMTIME_LIBRARY to the pinned _libwasmtime.so or run `npm run fetch-wasmtime`');
  });

  it('says plainly when the Python it was given has no pip', async () => {
    const python = pythonWithoutWasmtime('absent');
    const reason = reasonOf(await locateWasmtimeLibrary({ cacheRoot: suiteTempDir('wasmtime-empty'), python, fetch: true, env: env() }));
    expect(reason).toContain(`pip is not installed for ${python}`);
  });

  it('refuses a wheel from pip whose hash is not the pin, and installs nothing', async () => {
    const root = suiteTempDir('wasmtime-bogus');
    const python = pythonWithoutWasmtime('serving a bogus wheel');
    const found = await locateWasmtimeLibrary({ cacheRoot: root, python, fetch: true, env: env() });
    expect(reasonOf(found)).toContain(
      `the wheel pip downloaded, ${pin.wheel}, has sha256 ${sha256OfText('not a wheel\n')}, pinned ${pin.wheelSha256}: refused`,
    );
    expect(readdirSync(root)).toEqual([]);
    // pip keeps no copy of the wheel in its own cache.
    expect(readFileSync(`${python}.args`, 'utf8')).toMatch(/^-m pip download wasmtime==\S+ --no-deps --only-binary=:all: --no-cache-dir -d \S+\n$/);
  });

  it('a corrupted cache file is removed even when it cannot be fetched again, and the reason says so', async () => {
    const root = suiteTempDir('wasmtime-corrupt');
    const path = cachedLibraryPath(root, pin);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'half a library');
    const reason = reasonOf(await locateWasmtimeLibrary({ cacheRoot: root, python: 'berth-no-such-python', fetch: true, env: env() }));
    expect(reason).toContain(`the cached ${path} had sha256 ${sha256OfText('half a library')}, pinned ${pin.librarySha256}: removed`);
    expect(reason).toContain('berth-no-such-python is not installed, so pip cannot fetch the wasmtime wheel');
    expect(readdirSync(join(path, '..'))).toEqual([]);
  });

  describe('npm run fetch-wasmtime (run by npm install)', () => {
    const script = join(projectRoot(), 'scripts', 'fetch-wasmtime.mjs');
    const run = (extra: NodeJS.ProcessEnv) => promisify(execFile)(process.execPath, [script], { env: env(extra), timeout: 60_000 });

    it('prints one line saying where the verified library is', async () => {
      const xdg = suiteTempDir('wasmtime-xdg');
      mkdirSync(join(xdg, 'berth', 'wasmtime', WASMTIME_VERSION), { recursive: true });
      linkSync(library, join(xdg, 'berth', 'wasmtime', WASMTIME_VERSION, '_libwasmtime.so'));
      const { stdout } = await run({ XDG_CACHE_HOME: xdg });
      expect(stdout).toBe(
        `berth: Wasmtime library at ${join(xdg, 'berth', 'wasmtime', WASMTIME_VERSION, '_libwasmtime.so')} (cache, sha256 ${pin.librarySha256} verified)\n`,
      );
    });

    it('exits 0 with the reason when no library can be had, or when the named one is refused', async () => {
      const xdg = suiteTempDir('wasmtime-xdg');
      const none = await run({ XDG_CACHE_HOME: xdg, PATH: join(xdg, 'no-bin') });
      expect(none.stdout).toMatch(
        /^berth: no Wasmtime library: .*python3 is not installed, so pip cannot fetch the wasmtime wheel.*BERTH_WASMTIME_LIBRARY.*Berth runs on jco\n$/,
      );
      const wrong = join(xdg, 'wrong.so');
      writeFileSync(wrong, 'some other build');
      const refused = await run({ XDG_CACHE_HOME: xdg, BERTH_WASMTIME_LIBRARY: wrong });
      expect(refused.stdout).toMatch(/^berth: BERTH_WASMTIME_LIBRARY .*wrong\.so has sha256 .*: refused\. Berth runs on jco\n$/);
    });
  });
});

function sha256OfText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
