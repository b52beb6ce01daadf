import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { distPath } from '../common/paths.js';

const exec = promisify(execFile);

/**
 * Runs a benchmark step in a fresh Node process (`dist/bench/<script>`, with `--expose-gc`) and
 * returns the JSON it prints last. Memory is measured this way: a process that has freed other
 * instances already would grow less, and the figure would flatter whichever ran later.
 */
export async function inFreshProcess<T>(script: string, input: unknown, timeoutMs: number): Promise<T> {
  const { stdout } = await exec(process.execPath, ['--expose-gc', distPath(`bench/${script}`), JSON.stringify(input)], {
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 16 * 2 ** 20,
  });
  const last = stdout.trimEnd().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`bench/${script} printed no result: ${stdout.slice(-500)}`);
  }
}

/** The input a fresh-process step was given (its first argument). */
export function freshInput<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

export const settle = async (ms: number): Promise<void> => {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, ms));
  (globalThis as { gc?: () => void }).gc?.();
};
