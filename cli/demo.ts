import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDemoCache, DEMO_APPS } from './demo/apps.js';
import { DEMO_GRANTS } from './demo/grants.js';
import type { RunningDemo } from './demo/system.js';
import type { Command } from './main.js';
import { stopSignal } from './stop-signal.js';

const say = (line: string) => process.stdout.write(line + '\n');

const USAGE = `berth demo [--exit] [--keep] [--dir DIR]
  The whole system on this machine: registry, control plane, two devices, two vendors' signed apps.
  --exit      stop after the summary instead of leaving the control plane up for a look
  --keep      keep the demo's folder (default: removed when the demo stops)
  --dir DIR   put the demo's state in DIR (default: a new temp folder)
berth demo --sandbox
  One device's runtime alone: three apps, two of them misbehaving, each confined.`;

function printSummary(d: RunningDemo): void {
  say('\nSummary');
  for (const [id, agent] of d.agents) {
    const apps = DEMO_APPS.filter((a) => id === 'line-1' || a === 'sensor');
    say(
      `  device ${id.padEnd(7)} manifest version ${agent.adoptedVersion()}, gateway http://127.0.0.1:${agent.gatewayPort}: ${apps.map((a) => `${DEMO_GRANTS[a].vendor}/${a}`).join(', ')} running`,
    );
  }
  say(`  deployment to all apps answering: ${d.observed.secondsToAllRunning.toFixed(1)} s; workload identity ${d.observed.tokenSubject}`);
  say(`\nThe control plane is at ${d.controlPlane.url} (fleet CA: ${d.caFile}), logs in ${d.logFile}.`);
  say(`Look around, for instance:`);
  say(`  the web console at ${d.controlPlane.url}/console/ (sign in with the admin token ${d.adminToken}; the browser must trust the fleet CA)`);
  say(`  curl --cacert ${d.caFile} -H 'authorization: Bearer ${d.adminToken}' ${d.controlPlane.url}/api/v1/admin/devices`);
  say(`  curl http://127.0.0.1:${d.agents.get('line-1')!.gatewayPort}/analytics/summary`);
  say(`  curl --cacert ${d.caFile} -H 'authorization: Bearer ${d.adminToken}' ${d.controlPlane.url}/metrics   # Prometheus (docs/metrics.md)`);
}

const OPTIONS = {
  exit: { type: 'boolean' },
  keep: { type: 'boolean' },
  dir: { type: 'string' },
  sandbox: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export const command: Command = {
  options: OPTIONS,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
    });
    if (values.help) {
      say(USAGE);
      return 0;
    }
    // Loaded when run, not when the command is loaded: shell completion loads it for its flags.
    if (values.sandbox) return (await import('./demo/sandbox.js')).runSandboxDemo();
    const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'berth-demo-'));
    const removeDir = !values.keep && !values.dir;
    say("Berth demo: one control plane, two devices, two vendors, each vendor's app signed and confined.\n");
    const { runSystemDemo } = await import('./demo/system.js');
    const demo = await runSystemDemo({ dir, appCache: defaultDemoCache(), say });
    printSummary(demo);
    if (!values.exit) {
      say('\nPress Ctrl-C to stop.');
      await stopSignal();
    }
    say('Stopping the devices, the control plane and the registry...');
    await demo.stop();
    if (removeDir) rmSync(dir, { recursive: true, force: true });
    return 0;
  },
};
