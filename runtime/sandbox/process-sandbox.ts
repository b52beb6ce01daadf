import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError, errorMessage } from '../../common/errors.js';
import { distPath, projectRoot } from '../../common/paths.js';
import type { CompiledComponent } from '../engine/engine.js';
import { artifactFiles, koffiDirs, portableCompiled } from '../engine/artifact.js';
import type { BridgeHandlers } from './bridge.js';
import type { FromChild, ToChild } from './process-protocol.js';
import type { InvokeOutcome, StopReason, StopReport, UsageReport } from './protocol.js';
import type { AppSpec, Sandbox, SandboxHooks } from './sandbox.js';
import { tailText } from '../../common/text.js';

const LOAD_TIMEOUT_MS = 20_000;
/** The child enforces the deadline itself; the parent kills it if even that does not answer. */
const DEADLINE_GRACE_MS = 2_000;

export interface ProcessTierOptions {
  /** Wrap the child in bubblewrap namespaces (no network, private /tmp) when bwrap is installed. */
  bubblewrap: 'auto' | 'never';
  /** The Node executable the child runs; this process's own (process.execPath) when not given. */
  node?: string;
}

/**
 * The Node binary the child runs, through any symlinks (a version manager's shim, npm's .bin),
 * so that bubblewrap can bind the file itself back in wherever it is installed.
 */
export function nodeExecutable(node = process.execPath): string {
  return realpathSync(node);
}

/**
 * What of the Node installation the child needs visible: the binary, and the `lib` folder beside
 * its `bin` folder when there is one (a Node built with a shared libnode loads it from there).
 * Bound even where the sandbox hides nothing today: a node under /tmp (an unpacked CI binary)
 * vanished behind the private /tmp before, and home folders or /opt may be hidden next.
 */
export function nodeInstallation(node: string): string[] {
  const lib = join(dirname(dirname(node)), 'lib');
  return basename(dirname(node)) === 'bin' && existsSync(lib) ? [node, lib] : [node];
}

/** Node 22.13+/23.5+ call it --permission; Node 20 and early 22 only know the experimental name. */
export function permissionFlag(version = process.versions.node): string {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 5) || (major === 22 && minor >= 13) ? '--permission' : '--experimental-permission';
}

let bwrapPath: string | null | undefined;
export function findBubblewrap(): string | null {
  if (bwrapPath !== undefined) return bwrapPath;
  const probe = spawnSync('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--die-with-parent', 'true'], { stdio: 'ignore', timeout: 5_000 });
  return (bwrapPath = probe.status === 0 ? 'bwrap' : null);
}

function childEntry(): string {
  const bundle = distPath('runtime/sandbox/process-main.bundle.cjs');
  return existsSync(bundle) ? bundle : distPath('runtime/sandbox/process-main.js');
}

/** What the child may read and write: Berth's code, this app's compiled files, its data. */
export function childNodeArgs(compiled: CompiledComponent, spec: AppSpec, entry = childEntry()): string[] {
  // package.json: common/paths.ts finds Berth's files from it.
  const reads = [distPath(''), join(projectRoot(), 'package.json'), ...childReads(compiled), spec.dataDir];
  return [
    permissionFlag(),
    ...[...new Set(reads)].map((p) => `--allow-fs-read=${p}`),
    // Wasmtime is native code reached through koffi, a native addon (the library's hash was checked).
    ...(compiled.engine === 'wasmtime' ? ['--allow-addons'] : []),
    `--allow-fs-write=${spec.dataDir}`,
    '--allow-worker',
    '--no-warnings',
    `--max-old-space-size=${spec.limits.jsHeapMb}`,
    entry,
  ];
}

/** The artifact's files, and for Wasmtime the FFI package that loads the library. */
function childReads(compiled: CompiledComponent): string[] {
  const files = artifactFiles(compiled.artifact);
  return compiled.engine === 'wasmtime' ? [...files, ...koffiDirs()] : files;
}

export function bubblewrapArgs(compiled: CompiledComponent, spec: AppSpec, node = nodeExecutable()): string[] {
  // The whole tree read-only, then a private /tmp with only what the child needs bound back in
  // (Berth itself, or the Node binary, may live under /tmp too, as a checkout in CI may).
  const readOnly = [...nodeInstallation(node), distPath(''), join(projectRoot(), 'package.json'), ...childReads(compiled)];
  const binds = [...new Set(readOnly)].flatMap((p) => ['--ro-bind', p, p]);
  return [
    '--ro-bind',
    '/',
    '/',
    '--tmpfs',
    '/tmp',
    ...binds,
    '--bind',
    spec.dataDir,
    spec.dataDir,
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--',
  ];
}

/**
 * The `process` tier: each app in a child process of its own, so that even a flaw in the engine
 * or the generated glue meets the operating system's boundary (Node's permission model, and
 * namespaces when bubblewrap is there) before it reaches the device. Costliest to start.
 */
export class ProcessSandbox implements Sandbox {
  readonly tier = 'process' as const;
  exports: string[] = [];
  memoryPages = 0;
  readonly bubblewrapped: boolean;
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (o: InvokeOutcome) => void; timer: NodeJS.Timeout }>();
  private stopped: StopReport | undefined;
  private readonly listeners: ((report: StopReport) => void)[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly spec: AppSpec,
    private readonly hooks: SandboxHooks,
    bubblewrapped: boolean,
  ) {
    this.bubblewrapped = bubblewrapped;
  }

  static async start(
    compiled: CompiledComponent,
    spec: AppSpec,
    hooks: SandboxHooks,
    options: ProcessTierOptions = { bubblewrap: 'auto' },
  ): Promise<ProcessSandbox> {
    const bwrap = options.bubblewrap === 'auto' ? findBubblewrap() : null;
    // The child's permissions and bubblewrap's bind name the app's folder: it must exist.
    mkdirSync(spec.dataDir, { recursive: true, mode: 0o700 });
    const args = childNodeArgs(compiled, spec);
    const node = nodeExecutable(options.node);
    const [command, argv] = bwrap ? [bwrap, [...bubblewrapArgs(compiled, spec, node), node, ...args]] : [node, args];
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: {}, serialization: 'advanced' });
    child.stderr!.setEncoding('utf8');
    let stderr = '';
    child.stderr!.on('data', (d: string) => (stderr = tailText(stderr + d, 2000)));
    const sandbox = new ProcessSandbox(child, spec, hooks, bwrap !== null);
    // Compiled modules cannot cross a process boundary; the child compiles its own (process-main.ts).
    const component = portableCompiled(compiled);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(`the app's process did not start within ${LOAD_TIMEOUT_MS} ms`), LOAD_TIMEOUT_MS);
      const fail = (message: string, code = 'instantiation-failed') => {
        clearTimeout(timer);
        sandbox.end('load-failed', message);
        reject(new BerthError(code, message));
      };
      child.on('message', (m: FromChild) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          sandbox.exports = m.exports;
          resolve();
        } else if (m.type === 'load-failed') fail(m.message, m.code);
        else sandbox.onMessage(m);
      });
      child.on('error', (err) => fail(`cannot start the app's process: ${errorMessage(err)}`));
      child.on('exit', (code, signal) => {
        const why = `the app's process exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`;
        fail(why);
        sandbox.end('crash', why);
      });
      child.send({ type: 'load', component, spec } satisfies ToChild);
    });
    return sandbox;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onMessage(m: FromChild): void {
    switch (m.type) {
      case 'log':
        this.hooks.log(this.spec.identity, m.record);
        return;
      case 'usage':
        this.usage(m.report);
        return;
      case 'result': {
        if (m.usage) this.usage(m.usage);
        const call = this.calls.get(m.id);
        this.calls.delete(m.id);
        if (call) {
          clearTimeout(call.timer);
          call.resolve(m.outcome);
        }
        return;
      }
      case 'host-call':
        void this.answerHostCall(m.id, m.method, m.args);
        return;
      case 'ended':
        this.end(m.reason, m.message);
    }
  }

  private usage(report: UsageReport): void {
    this.memoryPages = report.memoryPages;
    this.hooks.usage?.(this.spec.identity, report);
  }

  private handlers: BridgeHandlers | undefined;

  private async answerHostCall(id: number, method: string, args: unknown[]): Promise<void> {
    // Built once per instance, as the other tiers do when they serve their bridge.
    this.handlers ??= this.hooks.hostHandlers?.(this.spec) ?? {};
    const handler = this.handlers[method];
    let answer: ToChild;
    if (!handler) answer = { type: 'host-answer', id, ok: false, error: { payload: { tag: 'unavailable', val: `no host method ${method}` } } };
    else {
      try {
        answer = { type: 'host-answer', id, ok: true, value: await handler(...args) };
      } catch (err) {
        const error = err && typeof err === 'object' && 'payload' in err ? { payload: (err as { payload: unknown }).payload } : { message: errorMessage(err) };
        answer = { type: 'host-answer', id, ok: false, error };
      }
    }
    if (this.child.connected) this.child.send(answer);
  }

  invoke(fn: string, args: unknown[] = []): Promise<InvokeOutcome> {
    if (this.stopped) return Promise.resolve(stoppedOutcome(this.stopped));
    return new Promise((resolve) => {
      const id = this.nextId++;
      const timer = setTimeout(
        () => this.end('deadline', `${fn} ran past its ${this.spec.limits.cpuDeadlineMs} ms deadline`),
        this.spec.limits.cpuDeadlineMs + DEADLINE_GRACE_MS,
      );
      this.calls.set(id, { resolve, timer });
      this.child.send({ type: 'invoke', id, fn, args } satisfies ToChild);
    });
  }

  private end(reason: StopReason, message: string): void {
    if (this.stopped) return;
    this.stopped = { reason, message, at: Date.now() };
    this.child.kill('SIGKILL');
    for (const [id, call] of this.calls) {
      clearTimeout(call.timer);
      call.resolve(stoppedOutcome(this.stopped));
      this.calls.delete(id);
    }
    for (const listener of this.listeners) listener(this.stopped);
  }

  async stop(): Promise<void> {
    const exited = this.child.exitCode !== null || this.child.signalCode !== null ? Promise.resolve() : new Promise((r) => this.child.once('exit', r));
    this.end('stopped', 'stopped by the runtime');
    await exited;
  }

  onStop(listener: (report: StopReport) => void): void {
    if (this.stopped) listener(this.stopped);
    else this.listeners.push(listener);
  }
}

function stoppedOutcome(report: StopReport): InvokeOutcome {
  return { ok: false, failure: { kind: 'sandbox-stopped', reason: report.reason, message: report.message } };
}
