import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sha256OfFile } from './file-hash.js';
import type { WasmtimeLibraryPin } from './pin.js';
import { runTool } from './run-tool.js';

// A wheel is a zip; pip implies Python, and Python's zipfile reads it, so Berth carries no zip reader.
const EXTRACT = [
  'import sys, zipfile, shutil',
  "with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'xb') as dst:",
  '    shutil.copyfileobj(src, dst)',
].join('\n');

const PIP_TIMEOUT_MS = 10 * 60_000;

export type FetchedLibrary = { path: string; sha256: string } | { missing: string };

/**
 * Downloads the pinned wheel with pip, checks it, takes the library out of it, checks that, and
 * only then puts it at `target` (a rename, so a reader never sees half a file).
 */
export async function fetchLibraryInto(target: string, python: string, env: NodeJS.ProcessEnv, pin: WasmtimeLibraryPin): Promise<FetchedLibrary> {
  const scratch = await mkdtemp(join(tmpdir(), 'berth-wasmtime-'));
  try {
    const wheel = await downloadWheel(scratch, python, env, pin);
    if ('missing' in wheel) return wheel;
    await mkdir(dirname(target), { recursive: true });
    const partial = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const extracted = await runTool(python, ['-c', EXTRACT, wheel.path, pin.libraryInWheel, partial], env, 120_000);
      if (!extracted.ok) return { missing: `could not take ${pin.libraryInWheel} out of ${pin.wheel}: ${extracted.message}` };
      const sha256 = await sha256OfFile(partial);
      if (sha256 !== pin.librarySha256)
        return { missing: `${pin.libraryInWheel} in the downloaded wheel has sha256 ${sha256}, pinned ${pin.librarySha256}: refused` };
      await chmod(partial, 0o644);
      await rename(partial, target);
      return { path: target, sha256 };
    } finally {
      await rm(partial, { force: true });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function downloadWheel(dir: string, python: string, env: NodeJS.ProcessEnv, pin: WasmtimeLibraryPin): Promise<{ path: string } | { missing: string }> {
  // --no-cache-dir: the wheel is deleted once its library is out; pip would keep a second copy in ~/.cache/pip.
  const args = ['-m', 'pip', 'download', `wasmtime==${pin.version}`, '--no-deps', '--only-binary=:all:', '--no-cache-dir', '-d', dir];
  const pip = await runTool(python, args, env, PIP_TIMEOUT_MS);
  if (!pip.ok) {
    if (pip.notFound) return { missing: `${python} is not installed, so pip cannot fetch the wasmtime wheel` };
    if (/No module named pip/.test(pip.message)) return { missing: `pip is not installed for ${python}` };
    return { missing: `pip could not download wasmtime ${pin.version}: ${pip.message}` };
  }
  const path = join(dir, pin.wheel);
  if (!existsSync(path)) return { missing: `pip downloaded ${(await readdir(dir)).join(', ') || 'nothing'}, not ${pin.wheel}` };
  const sha256 = await sha256OfFile(path);
  if (sha256 !== pin.wheelSha256) return { missing: `the wheel pip downloaded, ${pin.wheel}, has sha256 ${sha256}, pinned ${pin.wheelSha256}: refused` };
  return { path };
}
