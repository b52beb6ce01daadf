import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROBE, writeBundle, type ContainerResources } from './container/bundle.js';

const exec = promisify(execFile);
const CANDIDATES = ['crun', 'runc'] as const;

export interface RunOutcome {
  ok: boolean;
  /** The probe's output line, or the runtime's error. */
  out: string;
  ms: number;
}

/**
 * One OCI runtime (crun or runc from Debian) driven the way a minimal engine would: a bundle per
 * container over one shared read-only rootfs, state kept under this run's own `--root` so the
 * benchmark can find and delete everything it started, and nobody else's containers.
 */
export class OciRuntime {
  private seq = 0;
  private readonly started = new Set<string>();

  constructor(
    readonly name: string,
    readonly version: string,
    private readonly scratch: string,
    private readonly rootfs: string,
  ) {
    mkdirSync(join(scratch, 'state'), { recursive: true });
  }

  private global(): string[] {
    return ['--root', join(this.scratch, 'state')];
  }

  private bundle(args: string[], resources?: ContainerResources): { id: string; dir: string } {
    const id = `berth-bench-${process.pid}-${++this.seq}`;
    return { id, dir: writeBundle(join(this.scratch, 'bundles', id), this.rootfs, [PROBE, ...args], resources) };
  }

  /** `run` in the foreground to the probe's exit: the container's whole life, timed. */
  async run(args: string[], resources?: ContainerResources, timeoutMs = 20_000): Promise<RunOutcome> {
    const { id, dir } = this.bundle(args, resources);
    this.started.add(id);
    const t0 = performance.now();
    try {
      const { stdout } = await exec(this.name, [...this.global(), 'run', '-b', dir, id], { timeout: timeoutMs, killSignal: 'SIGKILL' });
      return { ok: true, out: stdout.trim(), ms: performance.now() - t0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; signal?: string; code?: number; message: string };
      const why = e.signal ? `killed by ${e.signal}` : `exit ${String(e.code)}`;
      return { ok: false, out: `${why}: ${(e.stdout ?? '').trim()} ${(e.stderr ?? e.message).trim().split('\n').pop()}`.trim(), ms: performance.now() - t0 };
    } finally {
      await this.remove(id);
    }
  }

  /** Starts a resident container (`pause`) in the background and returns its id once it runs. */
  async startResident(): Promise<string> {
    const { id, dir } = this.bundle(['pause']);
    this.started.add(id);
    const log = join(this.scratch, `${id}.log`);
    // Detached, the container keeps runc's stdio: give it none, so nothing here waits on a pipe.
    const child = spawn(this.name, [...this.global(), '--log', log, 'run', '-d', '-b', dir, id], { stdio: 'ignore' });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve).once('error', () => resolve(-1)));
    if (code !== 0) throw new Error(`${this.name} run -d failed (exit ${String(code)}): ${tail(log)}`);
    return id;
  }

  async exec(id: string, args: string[]): Promise<string> {
    const { stdout } = await exec(this.name, [...this.global(), 'exec', id, PROBE, ...args], { timeout: 10_000, killSignal: 'SIGKILL' });
    return stdout.trim();
  }

  async pid(id: string): Promise<number> {
    const { stdout } = await exec(this.name, [...this.global(), 'state', id], { timeout: 10_000 });
    return (JSON.parse(stdout) as { pid: number }).pid;
  }

  async remove(id: string): Promise<void> {
    await exec(this.name, [...this.global(), 'delete', '-f', id], { timeout: 10_000 }).catch(() => undefined);
    this.started.delete(id);
  }

  /** Deletes every container this run started, including any a timeout left behind. */
  async removeAll(): Promise<void> {
    const listed = await exec(this.name, [...this.global(), 'list', '-q'], { timeout: 10_000 }).then(
      (r) => r.stdout.split('\n').filter(Boolean),
      () => [],
    );
    for (const id of new Set([...this.started, ...listed])) await this.remove(id);
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-2).join(' | ');
  } catch {
    return 'no log';
  }
}

export interface Detection {
  runtime: OciRuntime | undefined;
  /** What was tried and why each candidate was not used. */
  tried: string[];
}

/** Uses the first of crun, runc that is installed and can run the probe here. */
export async function detectOciRuntime(scratch: string, rootfs: string): Promise<Detection> {
  const tried: string[] = [];
  for (const name of CANDIDATES) {
    const version = await exec(name, ['--version'], { timeout: 5_000 }).then(
      (r) => r.stdout.split('\n')[0]!.trim(),
      () => undefined,
    );
    if (!version) {
      tried.push(`${name}: not installed (Debian package ${name})`);
      continue;
    }
    const candidate = new OciRuntime(name, version, join(scratch, name), rootfs);
    const trial = await candidate.run(['add', '1', '2']);
    if (trial.ok && trial.out === '3') {
      tried.push(`${name}: ${version}: used`);
      return { runtime: candidate, tried };
    }
    await candidate.removeAll();
    tried.push(`${name}: ${version}: cannot run a container here: ${trial.out}`);
  }
  return { runtime: undefined, tried };
}
