import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../common/paths.js';

const BIN = join(projectRoot(), 'bin', 'berth.js');

/** A JSON log line of a child process, stamped with the life (start number) it came from. */
export type LogLine = Record<string, any> & { life: number };

/**
 * A Berth process the chaos test starts, kills with SIGKILL and starts again: the product's own
 * entry points (`berth orchestrator start`, `berth device start --config`), so a kill is a real
 * process dying mid-write, and what it logged is kept across its lives.
 */
export class BerthProcess {
  readonly logs: LogLine[] = [];
  /** Exits the test did not cause (a crash), with the last lines before each. */
  readonly crashes: string[] = [];
  private child: ChildProcess | undefined;
  private life = 0;
  private expectingExit = false;

  constructor(
    readonly name: string,
    private readonly args: () => string[],
    private readonly ready: (l: LogLine) => boolean,
    private readonly env: () => NodeJS.ProcessEnv = () => process.env,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get lives(): number {
    return this.life;
  }

  /**
   * Starts the process and waits until it says it is ready. One that exits before that (a
   * replica whose database is still restarting exits non-zero) is started again after a second,
   * as its supervisor (systemd, Kubernetes) would, at most `attempts` times: a failed start is
   * noted, not a crash. An exit after it was ready is a crash.
   */
  async start(timeoutMs = 90_000, attempts = 5): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce(timeoutMs);
      } catch (err) {
        if (attempt >= attempts || !(err instanceof ExitedBeforeReady)) throw err;
        this.failedStarts.push(err.message);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Starts that ended with the process exiting before it was ready, with its last lines. */
  readonly failedStarts: string[] = [];

  private async startOnce(timeoutMs: number): Promise<void> {
    if (this.child) throw new Error(`${this.name} is already running`);
    const life = ++this.life;
    let ready = false;
    const from = this.logs.length;
    const child = spawn(process.execPath, [BIN, ...this.args()], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'], env: this.env() });
    this.child = child;
    this.expectingExit = false;
    const collect = (line: string, stream: string) => {
      let parsed: Record<string, any>;
      try {
        parsed = JSON.parse(line) as Record<string, any>;
      } catch {
        parsed = { msg: line, raw: stream };
      }
      this.logs.push({ ...parsed, life });
    };
    createInterface({ input: child.stdout! }).on('line', (l) => collect(l, 'stdout'));
    createInterface({ input: child.stderr! }).on('line', (l) => collect(l, 'stderr'));
    child.once('exit', (code, sig) => {
      if (this.child === child) this.child = undefined;
      if (!this.expectingExit && ready) this.crashes.push(`${this.name} life ${life} exited (${code ?? sig}) on its own:\n${this.tail(20)}`);
    });
    const deadline = Date.now() + timeoutMs;
    while (!this.logs.slice(from).some(this.ready)) {
      if (this.child !== child) throw new ExitedBeforeReady(`${this.name} life ${life} exited before it was ready:\n${this.tail(12)}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not ready in ${timeoutMs} ms:\n${this.tail(30)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    ready = true;
  }

  /** `kill -9`: no shutdown code runs. */
  async kill9(): Promise<void> {
    await this.end('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.end('SIGTERM');
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    const exited = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  tail(n: number): string {
    return this.logs
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n');
  }
}

class ExitedBeforeReady extends Error {}

/** `berth orchestrator start` on PostgreSQL, on a fixed port so devices find it again after a restart. */
export function replicaProcess(name: string, o: { dataDir: string; storeUrl: string; port: number; registryConfig: string }): BerthProcess {
  const args = [
    'orchestrator',
    'start',
    '--data-dir',
    o.dataDir,
    '--store-url',
    o.storeUrl,
    '--port',
    String(o.port),
    '--trust-domain',
    'chaos.test',
    '--registry-config',
    o.registryConfig,
  ];
  return new BerthProcess(
    name,
    () => args,
    (l) => typeof l.msg === 'string' && /listening on https:/.test(l.msg),
  );
}

/** `berth device start --config <file>`; `env` is read at every start (the clock-skew preload). */
export function agentProcess(name: string, configPath: () => string, env: () => NodeJS.ProcessEnv): BerthProcess {
  return new BerthProcess(
    name,
    () => ['device', 'start', '--config', configPath()],
    (l) => l.msg === 'device agent started',
    env,
  );
}
