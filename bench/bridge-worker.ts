import { parentPort, workerData } from 'node:worker_threads';
import { BridgeClient, type BridgeChannel } from '../runtime/sandbox/bridge.js';

/**
 * Measures a guest-to-host call inside a worker: a core Wasm function that calls an imported
 * host function N times, where the host function either answers in the worker (direct) or
 * asks the main thread through the synchronous bridge.
 */
const { channel, calls, wasm } = workerData as { channel: BridgeChannel; calls: number; wasm: Uint8Array };
const bridge = new BridgeClient(channel, 5_000);
const module = new WebAssembly.Module(wasm);

function measure(host: (x: number) => number): number {
  const instance = new WebAssembly.Instance(module, { host: { call: host } });
  const loop = instance.exports.loop as (n: number) => number;
  loop(Math.min(100, calls));
  const t0 = performance.now();
  loop(calls);
  return ((performance.now() - t0) * 1000) / calls;
}

const directUs = measure((x) => x + 1);
const bridgeUs = measure((x) => bridge.call('echo', [x]) as number);
parentPort!.postMessage({ directUs, bridgeUs });
