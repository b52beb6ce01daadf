import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { wasmtimeApi, type Ptr } from './ffi.js';
import { newEngine, type EngineSettings } from './engine-config.js';

/** How often the epoch advances while a guest runs: the grain of every deadline and stop. */
export const EPOCH_TICK_MS = 1;
/**
 * How long the ticker goes on after the last call ended before it sleeps until the next: waking
 * it is a futex wake and a context switch per call (~20 µs on a busy two-core device), which
 * calls that come in bursts (an app's start, its entry point, its first call) would each pay.
 * Idle ticks cost nothing else: each call sets its own deadline from the epoch it starts at.
 */
const EPOCH_TICK_LINGER_MS = 50;

export interface ProcessEngine {
  library: string;
  settings: EngineSettings;
  engine: Ptr;
  /** [0]: calls running in this process's stores. */
  epochActive: SharedArrayBuffer;
}

let current: ProcessEngine | undefined;

/**
 * The process's one Wasmtime engine, made on first use, and the thread that advances its epoch.
 * Worker threads use it by address (artifact.ts); another process makes its own.
 */
export function processEngine(library: string, settings: EngineSettings): ProcessEngine {
  if (current) {
    if (current.library !== library || JSON.stringify(current.settings) !== JSON.stringify(settings)) {
      throw new Error('this process already runs a Wasmtime engine with another library or settings');
    }
    return current;
  }
  const engine = newEngine(wasmtimeApi(library), settings);
  const epochActive = new SharedArrayBuffer(8);
  startEpochTicker(library, engine, epochActive);
  current = { library, settings, engine, epochActive };
  return current;
}

/**
 * A thread of its own, because the threads that run guests are blocked in Wasmtime while they
 * do. It sleeps while no call runs (a guest's epoch callback is its only cost otherwise).
 */
function startEpochTicker(library: string, engine: Ptr, epochActive: SharedArrayBuffer): void {
  const koffiPath = createRequire(import.meta.url).resolve('koffi');
  const source = `
    const { workerData } = require('node:worker_threads');
    const koffi = require(workerData.koffiPath);
    const tick = koffi.load(workerData.library).func('wasmtime_engine_increment_epoch', 'void', ['void *']);
    const active = new Int32Array(workerData.epochActive);
    let idleTicks = 0;
    for (;;) {
      if (Atomics.load(active, 0) > 0) idleTicks = 0;
      else if (++idleTicks > workerData.lingerTicks) {
        Atomics.wait(active, 0, Atomics.load(active, 0));
        idleTicks = 0;
      }
      tick(workerData.engine);
      Atomics.wait(active, 1, 0, workerData.tickMs);
    }`;
  const lingerTicks = Math.ceil(EPOCH_TICK_LINGER_MS / EPOCH_TICK_MS);
  // execArgv: [] so that the process's own flags (`--input-type=module` makes an eval worker's
  // source an ES module, where `require` is not defined) do not change how this source runs.
  const worker = new Worker(source, {
    eval: true,
    execArgv: [],
    env: {},
    workerData: { koffiPath, library, engine, epochActive, tickMs: EPOCH_TICK_MS, lingerTicks },
  });
  worker.unref();
}

/** Around each call into a guest: the ticker runs while any does. */
export function callStarted(epochActive: Int32Array): void {
  if (Atomics.add(epochActive, 0, 1) === 0) Atomics.notify(epochActive, 0);
}
export function callEnded(epochActive: Int32Array): void {
  Atomics.sub(epochActive, 0, 1);
}
