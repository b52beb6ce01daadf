import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freemem, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../common/paths.js';
import { Runtime } from '../runtime/runtime.js';
import { TIERS } from '../wire/tier.js';
import { buildRootfs } from './container/bundle.js';
import { coldStarts, invokeLatencyUs, LogTap, memoryOf, type MemoryFigure } from './isolation-berth.js';
import { detectOciRuntime, type OciRuntime } from './isolation-container.js';
import { columnKey, PRESTARTED, renderIsolationDoc, type IsolationData, type Measured } from './isolation-doc.js';
import type { ManyAppsInput } from './isolation-memory-main.js';
import { isolationTargets, MANY_APPS } from './isolation-targets.js';
import { treeRssBytes } from './isolation-proc.js';
import { CANARY, Listener, plantSecret, probeBerth, probeContainer, type ProbeColumn } from './isolation-probes.js';
import { renderChart } from './isolation-svg.js';
import { describeMachine, percentile, type BenchResult, type Figure } from './report.js';
import { benchEngine, enginesFromArgs } from './engines.js';
import { inFreshProcess } from './fresh-process.js';
import { targetLine } from './targets.js';
import type { EngineKind } from '../wire/engine.js';

const GiB = 2 ** 30;
const progress = (what: string): void => void process.stderr.write(`isolation: ${what}\n`);

/**
 * `npm run bench -- isolation [--quick] [--no-docs] [--engines jco,wasmtime]`: the `hello` workload
 * (add two u32) under each Berth tier on each engine and in a crun/runc container, side by side;
 * docs/isolation.md explains the method.
 */
export async function run(argv: string[]): Promise<BenchResult> {
  const quick = argv.includes('--quick');
  const engines = enginesFromArgs(argv);
  const counts = quick
    ? {
        cold: { instance: 10, worker: 5, process: 3, container: 5 },
        calls: { instance: 300, worker: 300, process: 100, container: 5 },
        mem: { instance: 50, worker: 10, process: 3, container: 5 },
        many: { jco: 50, wasmtime: 200 },
      }
    : {
        cold: { instance: 30, worker: 20, process: 8, container: 20 },
        calls: { instance: 2000, worker: 2000, process: 500, container: 30 },
        mem: { instance: 200, worker: 40, process: 8, container: 20 },
        many: MANY_APPS,
      };
  const scratch = mkdtempSync(join(tmpdir(), 'berth-bench-isolation-'));
  const loadBefore = loadavg();
  const tap = new LogTap();
  const previousCanary = process.env[CANARY];
  process.env[CANARY] = 'visible-on-the-host';
  const listener = await Listener.open();
  const runtimes: { engine: EngineKind; runtime: Runtime; deviceDir: string; cacheDir: string }[] = [];
  let oci: OciRuntime | undefined;
  const ociTried: string[] = [];
  try {
    for (const engine of engines) {
      const deviceDir = join(scratch, `device-${engine}`);
      const cacheDir = join(scratch, `cache-${engine}`);
      runtimes.push({
        engine,
        deviceDir,
        cacheDir,
        runtime: new Runtime({ dataDir: deviceDir, engine: await benchEngine(engine, cacheDir), logger: tap.logger, warmWorkers: 0 }),
      });
    }
    try {
      const rootfs = await buildRootfs(join(scratch, 'container'));
      const found = await detectOciRuntime(join(scratch, 'container'), rootfs);
      oci = found.runtime;
      ociTried.push(...found.tried);
    } catch (err) {
      ociTried.push((err as Error).message);
    }
    // Memory of many instance-tier apps first, each engine in a fresh process of its own.
    const many: Record<string, MemoryFigure> = {};
    for (const { engine } of runtimes) {
      const count = counts.many[engine];
      progress(`${engine}: memory of ${count} instance-tier apps, in a fresh process`);
      if (freemem() < 3 * GiB) {
        progress(`${engine}: skipped, less than 3 GiB free`);
        continue;
      }
      const input: ManyAppsInput = { engine, dataDir: join(scratch, `many-${engine}`), cacheDir: join(scratch, `cache-${engine}`), count, budgetMs: 150_000 };
      many[engine] = await inFreshProcess<MemoryFigure>('isolation-memory-main.js', input, 300_000);
    }

    const measured: Record<string, Measured> = {};
    for (const { engine, runtime, deviceDir } of runtimes) {
      for (const tier of TIERS) {
        progress(`${engine}/${tier}: cold start and invoke`);
        const cold = await coldStarts(runtime, tier, counts.cold[tier]);
        measured[columnKey(tier, engine)] = {
          engine,
          column: tier,
          coldMs: cold.totalMs,
          breakdown: cold,
          invokeUs: await invokeLatencyUs(runtime, tier, counts.calls[tier], 15_000),
        };
      }
      // The device agent keeps one thread pre-started by default (docs/agent.md): a worker-tier
      // deployment starts on it. Measured apart, on its own runtime, so the rows above stay fresh starts.
      progress(`${engine}/worker on a pre-started thread: cold start`);
      const pooled = new Runtime({ dataDir: `${deviceDir}-pooled`, engine: runtime.engine, logger: tap.logger, warmWorkers: 1 });
      try {
        const cold = await coldStarts(pooled, 'worker', counts.cold.worker, 200);
        measured[columnKey(PRESTARTED, engine)] = { engine, column: PRESTARTED, coldMs: cold.totalMs, breakdown: cold, invokeUs: [] };
      } finally {
        await pooled.close().catch(() => undefined);
      }
    }
    progress(`container: ${oci ? oci.name : 'none'}`);
    if (oci) measured.container = await containerTimes(oci, counts.cold.container, counts.calls.container);

    progress('memory');
    for (const { engine, runtime } of runtimes) {
      for (const tier of TIERS) {
        const m = many[engine] && tier === 'instance' ? { ...many[engine], fresh: true } : await memoryOf(runtime, tier, counts.mem[tier], 60_000);
        measured[columnKey(tier, engine)]!.memory = m;
      }
    }
    if (oci) measured.container!.memory = await containerMemory(oci, counts.mem.container);

    const probes: Record<string, ProbeColumn> = {};
    progress('probes');
    for (const { engine, runtime, deviceDir } of runtimes) {
      const secret = plantSecret(deviceDir);
      for (const tier of TIERS) {
        progress(`probes: ${engine}/${tier}`);
        probes[columnKey(tier, engine)] = await probeBerth(runtime, tier, tap, listener, secret, `${tier}-${engine}`);
      }
    }
    if (oci) {
      const secret = plantSecret(runtimes[0]?.deviceDir ?? scratch);
      probes.container = await probeContainer(oci, listener, secret, false);
      probes['container + limits'] = await probeContainer(oci, listener, secret, true);
    }

    const data: IsolationData = {
      machine: await describeMachine(),
      load: { before: loadBefore, after: loadavg() },
      oci: oci ? `${oci.version} (${oci.name})` : undefined,
      ociTried,
      measured,
      probes,
      quick,
    };
    if (!argv.includes('--no-docs') && !quick) {
      const docs = join(projectRoot(), 'docs');
      mkdirSync(docs, { recursive: true });
      writeFileSync(join(docs, 'isolation.md'), renderIsolationDoc(data));
      writeFileSync(join(docs, 'isolation.svg'), renderChart(data));
    }
    return { bench: 'isolation', figures: figuresOf(data), notes: notesOf(data), data };
  } finally {
    for (const { runtime } of runtimes) await runtime.close().catch(() => undefined);
    await oci?.removeAll();
    await listener.close();
    if (previousCanary === undefined) delete process.env[CANARY];
    else process.env[CANARY] = previousCanary;
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function containerTimes(oci: OciRuntime, cold: number, calls: number): Promise<Measured> {
  const coldMs: number[] = [];
  for (let i = 0; i < cold; i++) {
    const r = await oci.run(['add', '1', '2']);
    if (!r.ok || r.out !== '3') throw new Error(`container add gave ${r.out}`);
    coldMs.push(r.ms);
  }
  const id = await oci.startResident();
  const invokeUs: number[] = [];
  try {
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      const out = await oci.exec(id, ['add', String(i), '2']);
      if (out !== String(i + 2)) throw new Error(`container exec add gave ${out}`);
      invokeUs.push((performance.now() - t0) * 1000);
    }
  } finally {
    await oci.remove(id);
  }
  return { coldMs, invokeUs };
}

async function containerMemory(oci: OciRuntime, k: number): Promise<Measured['memory']> {
  const ids: string[] = [];
  try {
    for (let i = 0; i < k; i++) ids.push(await oci.startResident());
    const pids = await Promise.all(ids.map((id) => oci.pid(id)));
    return { started: ids.length, bytesTotal: treeRssBytes(pids), note: 'VmRSS of the container processes (no shim: runc -d leaves none)' };
  } finally {
    for (const id of ids) await oci.remove(id);
  }
}

function figuresOf(data: IsolationData): Figure[] {
  const figures: Figure[] = [];
  for (const [who, m] of Object.entries(data.measured)) {
    figures.push({ name: `${who}: cold start p50`, value: percentile(m.coldMs, 50), unit: 'ms', note: `${m.coldMs.length} starts, to first result` });
    if (m.invokeUs.length > 0) {
      figures.push({ name: `${who}: invoke p50`, value: percentile(m.invokeUs, 50), unit: 'µs', note: `${m.invokeUs.length} calls` });
      figures.push({ name: `${who}: invoke p99`, value: percentile(m.invokeUs, 99), unit: 'µs' });
    }
    if (m.memory) {
      const per = m.memory.bytesTotal / m.memory.started;
      figures.push({ name: `${who}: memory per instance`, value: per / 2 ** 20, unit: 'MiB', note: `${m.memory.started} started; ${m.memory.note}` });
      figures.push({ name: `${who}: fit in 1 GiB`, value: Math.floor(GiB / per), unit: 'instances' });
    }
  }
  return figures;
}

function notesOf(data: IsolationData): string[] {
  const notes = [
    ...isolationTargets(data).map(targetLine),
    `OCI runtime: ${data.ociTried.join('; ')}`,
    `load average before ${data.load.before.map((l) => l.toFixed(2)).join(' ')}, after ${data.load.after.map((l) => l.toFixed(2)).join(' ')}`,
  ];
  for (const [who, column] of Object.entries(data.probes)) {
    notes.push(
      `${who}: ${Object.entries(column)
        .map(([b, c]) => `${b} ${c.verdict}`)
        .join(', ')}`,
    );
  }
  return notes;
}
