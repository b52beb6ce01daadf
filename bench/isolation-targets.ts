import type { EngineKind } from '../wire/engine.js';
import { measuredAt, PRESTARTED, type IsolationData } from './isolation-data.js';
import { percentile } from './report.js';
import { target, type Target } from './targets.js';

const GiB = 2 ** 30;

/** Instance-tier apps started together per engine, and the target for them (issue 7: jco; issue 13: Wasmtime). */
export const MANY_APPS: Record<EngineKind, number> = { jco: 1000, wasmtime: 10_000 };

/** How many times faster than the container each tier's cold start must be, per engine (issue 7; issue 13 for Wasmtime's instance tier). */
const FASTER: Record<string, Record<EngineKind, number>> = {
  worker: { jco: 2, wasmtime: 2 },
  [PRESTARTED]: { jco: 2, wasmtime: 2 },
  instance: { jco: 50, wasmtime: 100 },
};

/** The isolation benchmark's targets, looked up by column and engine, judged against the container of the same run. */
export function isolationTargets(d: IsolationData): Target[] {
  const out: Target[] = [];
  const container = d.measured.container;
  const engines = [...new Set(Object.values(d.measured).flatMap((m) => (m.engine ? [m.engine as EngineKind] : [])))];
  for (const engine of engines) {
    if (container) {
      const c = percentile(container.coldMs, 50);
      for (const [column, factor] of Object.entries(FASTER)) {
        const m = measuredAt(d, column, engine);
        if (m)
          out.push(target(`${engine}: \`${column}\` cold start, times faster than the container`, c / percentile(m.coldMs, 50), '×', 'min', factor[engine]));
      }
    }
    const instance = measuredAt(d, 'instance', engine);
    if (instance?.memory?.fresh) {
      const started = instance.memory.started;
      const fits = started >= MANY_APPS[engine] && instance.memory.bytesTotal <= GiB;
      out.push({ ...target(`${engine}: instance-tier apps within 1 GiB`, started, 'apps', 'min', MANY_APPS[engine]), met: fits });
    }
  }
  return out;
}
