import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../common/paths.js';
import type { Logger } from '../../common/logger.js';
import { defaultEngineChoice } from '../../runtime/engine/choice.js';
import type { Engine } from '../../runtime/engine/engine.js';
import { selectEngine } from '../../runtime/engine/select.js';
import { Runtime } from '../../runtime/runtime.js';
import type { AppSupervisor } from '../../runtime/supervisor.js';
import { buildWatComponent } from '../../runtime/wat-component.js';
import { writeWitPackage } from '../../runtime/wit-package.js';
import type { Limits } from '../../wire/limits.js';

const say = (line: string) => process.stdout.write(line + '\n');

interface Sample {
  app: string;
  what: string;
  grants: object;
  limits?: Limits;
}

const SAMPLES: Sample[] = [
  { app: 'greeter', what: 'well-behaved: logs a greeting on every call', grants: { log: {} } },
  { app: 'runaway', what: 'never returns from run (300 ms CPU deadline)', grants: {}, limits: { cpuDeadlineMs: 300 } },
  { app: 'hungry', what: 'grows its memory until refused (2 MiB limit)', grants: {}, limits: { memoryBytes: 2 * 2 ** 20 } },
];

/** Prints app log lines and runtime events as plain sentences. */
function demoLogger(): Logger {
  const print = (o: Record<string, unknown>, msg: string) => {
    const who = `${o.vendor}/${o.app}`;
    if (o.reason) say(`  ! ${who} stopped (${o.reason}): ${msg.replace(/^app stopped: /, '')}; restart in ${o.restartInMs} ms`);
    else say(`  > ${who} says: ${msg}`);
  };
  return { info: print, warn: print, error: print, debug() {}, trace() {}, fatal: print } as unknown as Logger;
}

/** The engine a device would choose (`auto`, or BERTH_ENGINE), with the reason when it is not Wasmtime. */
async function demoEngine(cacheDir: string): Promise<Engine> {
  return selectEngine({ choice: defaultEngineChoice(), cacheDir, notice: (message) => say(`Wasmtime is not used: ${message}`) });
}

/** `berth demo --sandbox`: one device's runtime alone, three apps, two of them misbehaving. */
export async function runSandboxDemo(): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), 'berth-demo-'));
  const engine = await demoEngine(join(scratch, 'device', 'cache'));
  const runtime = new Runtime({
    engine,
    dataDir: join(scratch, 'device'),
    logger: demoLogger(),
    warmWorkers: 1,
    backoff: { initialMs: 200, maxMs: 2000, factor: 2, resetAfterMs: 60_000 },
  });
  try {
    say(`Berth demo: three apps from the "demo" vendor on one simulated device, on ${engine.name}.\n`);
    say('Building the sample components from examples/*.wat ...');
    const witDir = await writeWitPackage(join(scratch, 'wit'));
    const apps: AppSupervisor[] = [];
    for (const sample of SAMPLES) {
      const wat = readFileSync(join(projectRoot(), 'examples', `${sample.app}.wat`), 'utf8');
      const bytes = await buildWatComponent(wat, witDir, 'berth:host/app');
      say(`  ${sample.app.padEnd(8)} ${String(bytes.length).padStart(5)} bytes  ${sample.what}`);
      apps.push(await runtime.startApp(bytes, { vendor: 'demo', app: sample.app, grants: sample.grants, limits: sample.limits }));
    }
    const [greeter] = apps as [AppSupervisor];
    say('\nAll three are running, each in its own worker thread. For three seconds the greeter is');
    say('called every half second while its neighbours misbehave:\n');
    const latencies: number[] = [];
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const t0 = performance.now();
      const outcome = await greeter.invoke('run');
      latencies.push(performance.now() - t0);
      if (!outcome.ok) say(`  greeter call failed: ${outcome.failure.message}`);
    }
    say('\nSummary');
    for (const [i, app] of apps.entries()) {
      const s = app.status();
      say(
        `  ${SAMPLES[i]!.app.padEnd(8)} ${s.state.padEnd(8)} restarts ${String(s.restarts).padStart(2)}  last stop: ${s.lastStop ? `${s.lastStop.reason} (${s.lastStop.message})` : 'none'}`,
      );
    }
    const worst = Math.max(...latencies);
    say(`  greeter answered all ${latencies.length} calls; slowest ${worst.toFixed(1)} ms.`);
    say('\nNext: `berth inspect` and `berth run` try one component; see README.md.');
    return 0;
  } finally {
    await runtime.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
