import { execFile } from 'node:child_process';

export type ToolResult = { ok: true; stdout: string } | { ok: false; notFound: boolean; message: string };

/**
 * Runs python or pip to completion within `timeoutMs`. Never throws: a tool that is absent,
 * fails or hangs is one of the plain reasons there is no library.
 */
export function runTool(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout });
      const notFound = (err as NodeJS.ErrnoException).code === 'ENOENT';
      const timedOut = err.killed === true;
      const message = notFound
        ? `${command} is not installed`
        : timedOut
          ? `${command} ${args[0] ?? ''} ${args[1] ?? ''} did not finish within ${timeoutMs / 1000} s`
          : lastLine(stderr) || err.message;
      resolve({ ok: false, notFound, message });
    });
  });
}

/** The line of a tool's error output that says what went wrong (pip ends with it). */
function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('WARNING'));
  return lines[lines.length - 1] ?? '';
}
