import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError } from '../../common/errors.js';

const run = promisify(execFile);

/** Debian's packages for C components, named in every error so the fix is one line. */
export const C_PACKAGES = 'clang lld wasi-libc libclang-rt-dev-wasm32';
/** Debian's wasi-libc: what `--target=wasm32-wasi` links against. */
export const WASI_LIBC = '/usr/lib/wasm32-wasi/libc.a';

/** Clang's output, or an error that names the packages when clang is missing. */
export async function clang(args: string[]): Promise<string> {
  try {
    return (await run('clang', args, { maxBuffer: 1 << 20 })).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new BerthError('build.toolchain_missing', `clang not found: install the C toolchain with apt-get install ${C_PACKAGES}`);
    throw new BerthError('build.compile_failed', `clang ${args.join(' ')} failed:\n${e.stderr ?? e.message}`);
  }
}

/** Undefined when C components can be built here, else what is missing. */
export async function cToolchainMissing(): Promise<string | undefined> {
  try {
    await clang(['--version']);
  } catch (err) {
    return (err as Error).message;
  }
  if (!(await stat(WASI_LIBC).catch(() => undefined))) return `${WASI_LIBC} not found: apt-get install ${C_PACKAGES}`;
  return undefined;
}

/**
 * C through Debian's clang and wasi-libc (a WASI preview1 core module); jco's preview1 command
 * adapter then makes it a wasi:cli/command component whose `wasi:cli/run` is the app's entry
 * point. jco is a development dependency, like the JavaScript toolchain.
 */
export async function buildCComponent(sourcePath: string, scratchDir: string): Promise<Uint8Array> {
  const corePath = join(scratchDir, 'core.wasm');
  // No -Werror: a newer clang's new warnings must not break a build that worked.
  await clang(['--target=wasm32-wasi', '-O2', '-Wall', '-Wextra', '-o', corePath, sourcePath]);
  let jco: typeof import('@bytecodealliance/jco');
  try {
    jco = await import('@bytecodealliance/jco');
  } catch {
    throw new BerthError(
      'build.toolchain_missing',
      'building C components needs @bytecodealliance/jco (a development dependency): run `npm install` without --omit=dev',
    );
  }
  const adapter = await readFile(jco.preview1AdapterCommandPath());
  return jco.componentNew(await readFile(corePath), [['wasi_snapshot_preview1', adapter]]);
}
