import { execFile, execFileSync } from 'node:child_process';
import { BerthError } from '../common/errors.js';
import { distPath } from '../common/paths.js';
import type { LoadResult, LoadSpec } from './http-load-client.js';

export type { LoadResult, LoadSpec } from './http-load-client.js';

/** Which tool sends the load: Debian's `wrk` when installed (`auto`), else Berth's own Node client. */
export const LOAD_TOOLS = ['auto', 'node', 'wrk'] as const;
export type LoadTool = (typeof LOAD_TOOLS)[number];

/** Beyond the run itself, what a load process may take to start and report before it is killed. */
const GRACE_MS = 30_000;

export function wrkInstalled(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch (err) {
    // wrk prints its usage and exits 1 on --version: it is there all the same.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as { status?: number }).status === 1;
  }
}

export function resolveTool(tool: LoadTool): 'node' | 'wrk' {
  if (tool === 'node') return 'node';
  if (wrkInstalled()) return 'wrk';
  if (tool === 'wrk') throw new BerthError('bench.wrk-missing', 'the load tool wrk is not installed (apt-get install wrk), or use --load node');
  return 'node';
}

/** Sends the load from a second process on loopback and returns what it measured. */
export function runLoad(spec: LoadSpec, tool: 'node' | 'wrk'): Promise<LoadResult> {
  const timeout = spec.warmupMs + spec.durationMs + GRACE_MS;
  return tool === 'wrk' ? runWrk(spec, timeout) : runNodeChild(spec, timeout);
}

function runNodeChild(spec: LoadSpec, timeout: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [distPath('bench/http-load-main.js'), JSON.stringify(spec)], { timeout, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new BerthError('bench.load-failed', `the load generator failed: ${err.message} ${stderr}`.trim()));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadResult);
    });
  });
}

async function runWrk(spec: LoadSpec, timeout: number): Promise<LoadResult> {
  const url = `http://127.0.0.1:${spec.port}${spec.path}`;
  const wrk = (ms: number) =>
    new Promise<string>((resolve, reject) => {
      const args = [
        '-t1',
        `-c${spec.connections}`,
        `-d${Math.max(1, Math.round(ms / 1000))}s`,
        `--timeout`,
        `${Math.ceil(spec.requestTimeoutMs / 1000)}s`,
        '--latency',
        url,
      ];
      execFile('wrk', args, { timeout }, (err, stdout, stderr) =>
        err ? reject(new BerthError('bench.load-failed', `wrk failed: ${err.message} ${stderr}`.trim())) : resolve(stdout),
      );
    });
  // wrk has no warm-up of its own: a first short run, not counted.
  if (spec.warmupMs > 0) await wrk(spec.warmupMs);
  return parseWrk(await wrk(spec.durationMs));
}

/** The figures of `wrk --latency` output. */
export function parseWrk(out: string): LoadResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)\b/.exec(out);
  if (!total) throw new BerthError('bench.load-failed', `wrk's output has no request count: ${out.slice(0, 200)}`);
  const requests = Number(total[1]);
  const seconds = toMs(Number(total[2]), total[3]!) / 1000;
  const quantile = (q: string) => {
    const m = new RegExp(`^\\s*${q}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? toMs(Number(m[1]), m[2]!) : NaN;
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  const errorKinds = [...(non2xx ? [`${non2xx} non-2xx/3xx`] : []), ...(socketErrors ? [socket![0]] : [])];
  // wrk counts a non-2xx answer among its requests; here it is an error, as in the Node client.
  return {
    tool: 'wrk',
    requests: requests - non2xx,
    errors: non2xx + socketErrors,
    errorKinds,
    seconds,
    requestsPerSecond: (requests - non2xx) / seconds,
    p50Ms: quantile('50'),
    p99Ms: quantile('99'),
  };
}

function toMs(value: number, unit: string): number {
  return unit === 'us' ? value / 1000 : unit === 'ms' ? value : unit === 's' ? value * 1000 : value * 60_000;
}
