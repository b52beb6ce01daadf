import type { RuntimeData } from './runtime.js';
import type { InstancesMemory } from './runtime-memory-main.js';
import { percentile } from './report.js';
import { target, type Target } from './targets.js';

const GiB = 2 ** 30;

export const perInstanceBytes = (m: InstancesMemory): number => (m.started > 0 ? m.bytesTotal / m.started : NaN);

/**
 * The runtime benchmark's targets: issue 13's for Wasmtime (instantiate p50 of hello ≤ 0.03 ms,
 * a host call ≤ 2 µs, ≥ 10,000 instance-tier apps in 1 GiB, a runaway stopped within 20 ms of its
 * deadline) and the earlier ones every engine is held to (instantiate p50 ≤ 0.2 ms, cold start
 * ≤ 40 ms on a fresh worker and ≤ 5 ms on a pre-started one).
 */
export function runtimeTargets(data: RuntimeData): Target[] {
  const out: Target[] = [];
  for (const e of data.engines) {
    const p50 = percentile(e.guest.instantiateMs, 50);
    if (e.engine === 'wasmtime') {
      out.push(target('wasmtime: instantiate p50 of hello', p50, 'ms', 'max', 0.03));
      out.push(target('wasmtime: host call', e.guest.hostCallUs, 'µs', 'max', 2));
      out.push(target('wasmtime: live instances in 1 GiB', Math.floor(GiB / perInstanceBytes(e.memory)), 'instances', 'min', 10_000));
      out.push(target('wasmtime: runaway past its deadline, worst in-thread', Math.max(...e.guest.runawayOverrunMs), 'ms', 'max', 20));
      out.push(target('wasmtime: runaway past its deadline, worst in a worker', Math.max(...e.sandbox.runawayOverrunMs), 'ms', 'max', 20));
    } else {
      out.push(target(`${e.engine}: instantiate p50 of hello`, p50, 'ms', 'max', 0.2));
    }
    out.push(target(`${e.engine}: cold start, fresh worker`, percentile(e.sandbox.coldMs, 50), 'ms', 'max', 40));
    out.push(target(`${e.engine}: cold start, pre-started worker`, percentile(e.sandbox.pooledMs, 50), 'ms', 'max', 5));
  }
  return out;
}
