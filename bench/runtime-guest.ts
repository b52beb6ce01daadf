import { parseGrants } from '../host-apis/grants.js';
import type { HostContext } from '../host-apis/linker.js';
import type { Engine } from '../runtime/engine/engine.js';
import type { GuestComponent } from '../runtime/engine/guest.js';
import { GuestLoader } from '../runtime/engine/thread-loader.js';
import { AppInstance } from '../runtime/sandbox/app-instance.js';
import type { EngineKind } from '../wire/engine.js';
import { fixture } from './isolation-berth.js';
import { percentile } from './report.js';

const MiB = 2 ** 20;
/** What the `logflood` fixture's entry point does: this many calls of `berth:host/log.log`. */
export const LOGFLOOD_CALLS = 100_000;
/** The runaway's CPU deadline, as issue 13 states its target. */
export const RUNAWAY_DEADLINE_MS = 50;

/** Measured in this thread, on one engine: no sandbox thread, no messages. */
export interface GuestFigures {
  instantiateMs: number[];
  /** `add(u32, u32)` called on a live instance, per call. */
  exportCallUs: number;
  /** One guest-to-host call to a host function that does nothing, per call. */
  hostCallUs: number;
  /** How long past its deadline each runaway call returned; empty where the engine cannot stop a guest in its thread (jco). */
  runawayOverrunMs: number[];
}

export interface GuestCounts {
  instances: number;
  calls: number;
  floods: number;
  runaways: number;
}

/** A guest component loaded the way a sandbox thread loads it, whichever engine compiled it. */
export async function loadGuest(engine: Engine, name: string, loader = new GuestLoader()): Promise<{ component: GuestComponent; imports: string[] }> {
  const compiled = await engine.compile(fixture(name), { memoryLimitBytes: 16 * MiB });
  return { component: await loader.load(compiled.artifact), imports: compiled.info.imports };
}

export function helloContext(dataDir: string, instance = 'x'): HostContext {
  return { identity: { vendor: 'bench', app: 'hello', instance }, grants: parseGrants({ log: {} }), dataDir, logSink: () => {} };
}

export async function measureGuest(kind: EngineKind, engine: Engine, dataDir: string, counts: GuestCounts): Promise<GuestFigures> {
  const loader = new GuestLoader();
  const hello = await loadGuest(engine, 'hello', loader);
  const context = helloContext(dataDir);

  // Instantiation of the guest with its host objects linked from its grants, as a sandbox thread does.
  const instantiateMs: number[] = [];
  for (let i = 0; i < counts.instances; i++) {
    const t0 = performance.now();
    const app = AppInstance.create(hello.component, hello.imports, context);
    instantiateMs.push(performance.now() - t0);
    app.close();
  }

  const app = AppInstance.create(hello.component, hello.imports, context);
  for (let i = 0; i < 100; i++) app.invoke('add', [i, 1]);
  const t0 = performance.now();
  for (let i = 0; i < counts.calls; i++) app.invoke('add', [i, 1]);
  const exportCallUs = ((performance.now() - t0) * 1000) / counts.calls;
  app.close();

  return {
    instantiateMs: instantiateMs.slice(Math.floor(counts.instances / 10)),
    exportCallUs,
    hostCallUs: await hostCallUs(engine, loader, counts.floods),
    runawayOverrunMs: kind === 'wasmtime' ? await runawayOverrunMs(engine, loader, dataDir, counts.runaways) : [],
  };
}

/**
 * The `logflood` guest calls `berth:host/log.log` 100,000 times in a loop; linked here to a host
 * function that does nothing, the time per call is the engine's own cost of a host call (lowering
 * its arguments, the transition out and back). The median of `floods` runs after a warm-up run.
 */
async function hostCallUs(engine: Engine, loader: GuestLoader, floods: number): Promise<number> {
  const flood = await loadGuest(engine, 'logflood', loader);
  let calls = 0;
  const guest = flood.component.instantiate({ 'berth:host/log': { log: () => void calls++ } });
  const run = guest.resolve('run')!;
  run();
  const perCall: number[] = [];
  for (let i = 0; i < floods; i++) {
    const t0 = performance.now();
    run();
    perCall.push(((performance.now() - t0) * 1000) / LOGFLOOD_CALLS);
  }
  guest.close();
  if (calls !== LOGFLOOD_CALLS * (floods + 1)) throw new Error(`logflood made ${calls} host calls, expected ${LOGFLOOD_CALLS * (floods + 1)}`);
  return percentile(perCall, 50);
}

/** The `spin` guest's endless loop with a 50 ms deadline: from the deadline to the call returning. */
async function runawayOverrunMs(engine: Engine, loader: GuestLoader, dataDir: string, runs: number): Promise<number[]> {
  const spin = await loadGuest(engine, 'spin', loader);
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const app = AppInstance.create(spin.component, spin.imports, { ...helloContext(dataDir), grants: parseGrants({}) });
    const t0 = performance.now();
    const outcome = app.invoke('run', [], RUNAWAY_DEADLINE_MS);
    const overrun = performance.now() - t0 - RUNAWAY_DEADLINE_MS;
    app.close();
    if (outcome.ok || outcome.failure.kind !== 'sandbox-stopped') throw new Error(`the runaway was not stopped at its deadline: ${JSON.stringify(outcome)}`);
    out.push(overrun);
  }
  return out;
}
