/**
 * `wasi:cli/*` for one app: its own arguments, an always-empty environment (the host's
 * variables never leak in), exit as an exception the runtime catches instead of ending the
 * process, an empty stdin, stdout/stderr routed to callbacks, and no terminal.
 */
import { InputStream, OutputStream, streamClosed, streamFailed } from './streams.js';

export interface CliHostOptions {
  args: string[];
  cwd: string | undefined;
  stdout: (bytes: Uint8Array) => void;
  stderr: (bytes: Uint8Array) => void;
}

/** Thrown by `exit`: the guest asked to stop with this status. Not a crash. */
export class WasiExit extends Error {
  readonly code: number;

  constructor(code: number) {
    super(`the app exited with status ${code}`);
    this.name = 'WasiExit';
    this.code = code;
  }
}

export class TerminalInput {}
export class TerminalOutput {}

type ExitStatus = { tag: 'ok'; val?: undefined } | { tag: 'err'; val?: undefined };

export interface CliHost {
  'wasi:cli/environment': {
    getEnvironment(): Array<[string, string]>;
    getArguments(): string[];
    initialCwd(): string | undefined;
  };
  'wasi:cli/exit': { exit(status: ExitStatus): never; exitWithCode(code: number): never };
  'wasi:cli/stdin': { getStdin(): InputStream };
  'wasi:cli/stdout': { getStdout(): OutputStream };
  'wasi:cli/stderr': { getStderr(): OutputStream };
  'wasi:cli/terminal-input': { TerminalInput: typeof TerminalInput };
  'wasi:cli/terminal-output': { TerminalOutput: typeof TerminalOutput };
  'wasi:cli/terminal-stdin': { getTerminalStdin(): TerminalInput | undefined };
  'wasi:cli/terminal-stdout': { getTerminalStdout(): TerminalOutput | undefined };
  'wasi:cli/terminal-stderr': { getTerminalStderr(): TerminalOutput | undefined };
}

function sinkStream(name: string, sink: (bytes: Uint8Array) => void): OutputStream {
  return new OutputStream({
    write(bytes) {
      try {
        // The guest's buffer may be a view on its memory: hand the sink a copy it may keep.
        sink(bytes.slice());
      } catch {
        // A failing sink (a closed log) is the guest's write failing, not a reason to trap it.
        streamFailed(`${name} is not accepting output`);
      }
    },
  });
}

export function createCliHost(options: CliHostOptions): CliHost {
  const args = Object.freeze([...options.args]);
  const cwd = options.cwd;
  const { stdout, stderr } = options;
  return {
    'wasi:cli/environment': {
      getEnvironment: () => [],
      getArguments: () => [...args],
      initialCwd: () => cwd,
    },
    'wasi:cli/exit': {
      exit(status) {
        throw new WasiExit(status?.tag === 'ok' ? 0 : 1);
      },
      exitWithCode(code) {
        throw new WasiExit(code & 0xff);
      },
    },
    'wasi:cli/stdin': { getStdin: () => new InputStream({ read: () => streamClosed() }) },
    'wasi:cli/stdout': { getStdout: () => sinkStream('stdout', stdout) },
    'wasi:cli/stderr': { getStderr: () => sinkStream('stderr', stderr) },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
  };
}
