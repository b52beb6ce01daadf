import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../common/paths.js';
import type { Logger } from '../common/logger.js';
import { Runtime, type IsolationTier } from '../runtime/runtime.js';
import type { ProcessSandbox } from '../runtime/sandbox/process-sandbox.js';
import type { AppSupervisor } from '../runtime/supervisor.js';
import { treeRssBytes } from './isolation-proc.js';

export function fixture(name: string): Uint8Array {
  try {
    return readFileSync(join(projectRoot(), 'test', '.build', 'fixtures', `${name}.wasm`));
  } catch {
    throw new Error(`fixture ${name} is not built: run \`npm test\` once (it builds the fixtures) before this benchmark`);
  }
}

/** App log lines by app name, for the probes that answer through their log (the `files` fixture). */
export class LogTap {
  private readonly lines = new Map<string, string[]>();
  readonly logger: Logger;
  constructor() {
    const log = (fields: { app?: string } | undefined, message?: string) => {
      if (!fields?.app?.startsWith('probe-') || typeof message !== 'string') return;
      const list = this.lines.get(fields.app) ?? [];
      list.push(message);
      this.lines.set(fields.app, list);
    };
    const none = () => {};
    this.logger = { info: log, warn: log, error: log, debug: none, trace: none, fatal: none, child: () => this.logger } as unknown as Logger;
  }
  of(app: string): string[] {
    return this.lines.get(app) ?? [];
  }
}

const HELLO_GRANTS = { log: {} };
let seq = 0;

export async function startHello(runtime: Runtime, tier: IsolationTier, prefix: string): Promise<AppSupervisor> {
  const app = await runtime.startApp(fixture('hello'), { vendor: 'bench', app: `${prefix}-${tier}-${++seq}`, grants: HELLO_GRANTS, tier });
  if (app.status().state !== 'running') throw new Error(`hello did not start under the ${tier} tier: ${app.status().lastStop?.message ?? app.status().state}`);
  return app;
}

export async function addOnce(app: AppSupervisor, a = 1, b = 2): Promise<void> {
  const outcome = await app.invoke('add', [a, b]);
  if (!outcome.ok || outcome.value !== a + b) throw new Error(`add(${a}, ${b}) gave ${JSON.stringify(outcome)}`);
}

/** One cold start, and where its time went (see `coldStarts`). */
export interface ColdStarts {
  /** Start to first result. */
  totalMs: number[];
  /** Start until `startApp` resolved: the instance is up (the entry point may still be running). */
  upMs: number[];
  /**
   * Time the sandbox thread spent running this instance by the first result (instantiation, the
   * entry point, the first call), as its usage account says (docs/accounting.md); the rest of the
   * start is the controlling thread's work and messages between the threads.
   */
  busyMs: number[];
}

/** Start to first result, `n` times, with the component already compiled (as after a first deploy). */
export async function coldStarts(runtime: Runtime, tier: IsolationTier, n: number, pauseMs = 0): Promise<ColdStarts> {
  // Compiles, and starts the instance tier's shared thread. The first call is answered after the
  // entry point (a sandbox thread runs calls in order), so each app is stopped idle.
  // The warm-up app stays up meanwhile: the runtime drops a digest's compiled code once no app
  // uses it, and this measures starts of an already-compiled component.
  const warmup = await startHello(runtime, tier, 'warmup');
  await addOnce(warmup);
  const out: ColdStarts = { totalMs: [], upMs: [], busyMs: [] };
  for (let i = 0; i < n; i++) {
    // A pre-started thread is replaced in the background; a pause lets it be ready, as between
    // deployments on a device.
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    const t0 = performance.now();
    const app = await startHello(runtime, tier, 'cold');
    const up = performance.now();
    await addOnce(app);
    out.totalMs.push(performance.now() - t0);
    out.upMs.push(up - t0);
    out.busyMs.push(app.usage()?.cpu.busyMs ?? NaN);
    await app.stop();
  }
  await warmup.stop();
  return out;
}

export async function invokeLatencyUs(runtime: Runtime, tier: IsolationTier, n: number, budgetMs: number): Promise<number[]> {
  const app = await startHello(runtime, tier, 'warm');
  try {
    for (let i = 0; i < 50; i++) await addOnce(app, i, 1);
    const samples: number[] = [];
    const end = performance.now() + budgetMs;
    for (let i = 0; i < n && performance.now() < end; i++) {
      const t0 = performance.now();
      await addOnce(app, i, 2);
      samples.push((performance.now() - t0) * 1000);
    }
    return samples;
  } finally {
    await app.stop();
  }
}

export interface MemoryFigure {
  started: number;
  bytesTotal: number;
  note: string;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * Starts `k` hello apps and measures what they hold resident: this process's RSS growth for the
 * tiers that live in it, the children's own VmRSS for the process tier. Stops them afterwards.
 */
export async function memoryOf(runtime: Runtime, tier: IsolationTier, k: number, budgetMs: number): Promise<MemoryFigure> {
  gc();
  await new Promise((r) => setTimeout(r, 200));
  const before = process.memoryUsage().rss;
  const apps: AppSupervisor[] = [];
  const end = performance.now() + budgetMs;
  try {
    while (apps.length < k && performance.now() < end) apps.push(await startHello(runtime, tier, `mem${k}`));
    for (const app of apps) await addOnce(app); // every one answers: none is a stub
    gc();
    await new Promise((r) => setTimeout(r, 300));
    if (tier === 'process') {
      const pids = apps.map((a) => (a.currentSandbox as ProcessSandbox).pid).filter((p): p is number => p !== undefined);
      const children = treeRssBytes(pids);
      return {
        started: apps.length,
        bytesTotal: children + Math.max(0, process.memoryUsage().rss - before),
        note: 'children VmRSS (with bwrap, if any) + parent RSS growth',
      };
    }
    return { started: apps.length, bytesTotal: process.memoryUsage().rss - before, note: 'RSS growth of this process' };
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
  }
}
