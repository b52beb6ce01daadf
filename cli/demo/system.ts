import 'reflect-metadata';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../common/logger.js';
import type { ControlPlane } from '../../orchestrator/control-plane.js';
import type { RunningRegistryServer } from '../../oci/server/serve.js';
import type { RunningAgent } from '../../runtime/agent/agent.js';
import { verifyWorkloadToken } from '../../trust/workload/verify.js';
import { buildDemoApps, DEMO_APPS, type DemoApp } from './apps.js';
import { DEMO_GRANTS } from './grants.js';
import type { OperatorClient } from './operator-client.js';
import { publishSignedApp } from './publish.js';
import { publishTufRoot, startLocalDevice, startLocalFleet } from './stack.js';
import { gatewayGet, waitUntil } from './wait.js';

export const DEMO_TRUST_DOMAIN = 'demo.berth.local';
export const DEMO_DEVICES = [
  { id: 'line-1', labels: { site: 'plant-a', line: '1' } },
  { id: 'line-2', labels: { site: 'plant-a', line: '2' } },
] as const;

export interface DemoOptions {
  /** Everything the demo makes lives here: control plane, registry, devices, logs. */
  dir: string;
  /** Where the built sample components are cached between runs. */
  appCache: string;
  say: (line: string) => void;
}

export interface RunningDemo {
  controlPlane: ControlPlane;
  registry: RunningRegistryServer;
  agents: Map<string, RunningAgent>;
  adminToken: string;
  caFile: string;
  logFile: string;
  /** What the demo observed, for the summary and for tests. */
  observed: DemoObservations;
  stop(): Promise<void>;
}

export interface DemoObservations {
  readings: Record<string, number[]>;
  summary: { readings: number; mean?: number };
  tokenSubject: string;
  refusedAudience: string;
  secondsToAllRunning: number;
}

/**
 * The whole system on one machine: an embedded registry, a control plane on PGlite, two vendors
 * who sign and publish an app each, two devices that onboard with enrollment tokens and run
 * what the signed desired state tells them. Every step goes through the same APIs an operator,
 * a vendor and a device use (README, "The demo").
 */
export async function runSystemDemo(o: DemoOptions): Promise<RunningDemo> {
  const { say } = o;
  const logFile = join(o.dir, 'berth.log');
  await mkdir(o.dir, { recursive: true });
  const logStream = createWriteStream(logFile, { flags: 'a' });
  const logger: Logger = createLogger({ name: 'demo', level: process.env.BERTH_LOG_LEVEL ?? 'info' }, logStream);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    await new Promise<void>((r) => logStream.end(r));
  };
  try {
    say('1. Building the two sample apps (cached after the first run)');
    const apps = await buildDemoApps(o.appCache, (app) => say(`   building ${app} with componentize-js (about 40 s, once)...`));
    for (const app of DEMO_APPS) say(`   ${DEMO_GRANTS[app].vendor}/${app}: ${(apps[app].length / 2 ** 20).toFixed(1)} MiB component`);

    say('2. Starting an OCI registry and the control plane (embedded PostgreSQL, self-made fleet CA)');
    const fleet = await startLocalFleet(o.dir, DEMO_TRUST_DOMAIN, logger);
    stops.push(() => fleet.close());
    const { registry, controlPlane, ca, caFile, admin, adminToken } = fleet;
    say(`   registry ${registry.url}, control plane ${controlPlane.url}`);
    const tufKeys = join(o.dir, 'tuf-root-keys');
    fleet.tufRootSha256 = await publishTufRoot(fleet, tufKeys);
    say(
      `   trust roots published through TUF: root signed by 3 offline keys (any 2 sign the next) in ${tufKeys}; devices pin sha256 ${fleet.tufRootSha256.slice(0, 12)}…`,
    );

    say('3. Two vendors sign their apps with their own keys and push them to the registry');
    for (const app of DEMO_APPS) {
      const vendor = DEMO_GRANTS[app].vendor;
      const published = await publishSignedApp({
        admin,
        controlPlaneUrl: controlPlane.url,
        ca,
        registry: registry.host,
        vendor,
        app,
        version: '1.0.0',
        component: apps[app],
      });
      say(`   ${vendor}/${app} ${published.version} signed (key ${published.keyId.slice(0, 12)}…), pushed, verified and admitted by the control plane`);
    }

    say('4. Two devices onboard with one-time enrollment tokens and report their capabilities');
    const agents = new Map<string, RunningAgent>();
    for (const device of DEMO_DEVICES) {
      const agent = await startLocalDevice(fleet, { ...device, dataDir: join(o.dir, 'devices', device.id) }, logger);
      stops.push(() => agent.stop());
      agents.set(device.id, agent);
      say(
        `   ${device.id} onboarded as spiffe://${DEMO_TRUST_DOMAIN}/device/${device.id}; its app gateway is http://127.0.0.1:${agent.gatewayPort}, its metrics ${agent.metricsUrl ?? 'off'}`,
      );
    }
    sayEngines(agents, say);

    say('5. The operator deploys: the sensor to every plant-a device, analytics node-locked to line-1');
    const t0 = performance.now();
    await deploy(admin, 'sensor', {
      deviceConstraints: { eligibilityRules: [{ labelSelector: { matchExpressions: [{ key: 'site', operator: 'In', values: ['plant-a'] }] } }] },
    });
    await deploy(admin, 'analytics', { deviceIds: ['line-1'] });
    const expected: [string, DemoApp][] = [
      ['line-1', 'sensor'],
      ['line-2', 'sensor'],
      ['line-1', 'analytics'],
    ];
    await waitUntil(90_000, 'both devices to run their apps', async () => {
      for (const [device, app] of expected) if ((await gatewayGet(agents.get(device)!.gatewayPort!, `/${app}/`)).status !== 200) return false;
      return true;
    });
    const secondsToAllRunning = (performance.now() - t0) / 1000;
    say(`   all three apps verified, started and answering after ${secondsToAllRunning.toFixed(1)} s`);

    say('6. The apps at work');
    const line1 = agents.get('line-1')!.gatewayPort!;
    await gatewayGet(line1, '/analytics/summary'); // subscribes before the first reading
    const readings: Record<string, number[]> = { 'line-1': [], 'line-2': [] };
    for (let i = 0; i < 3; i++) {
      for (const device of ['line-1', 'line-2']) {
        const r = await gatewayGet(agents.get(device)!.gatewayPort!, '/sensor/reading');
        readings[device]!.push(r.body.celsius);
      }
    }
    say(`   acme/sensor readings, line-1: ${readings['line-1']!.join(', ')} °C; line-2: ${readings['line-2']!.join(', ')} °C`);
    const summary = (await gatewayGet(line1, '/analytics/summary')).body;
    say(`   globex/analytics on line-1 received ${summary.readings} readings over the device's message bus (mean ${summary.mean} °C);`);
    say(`   line-2's readings stay on line-2: topics are per device, and analytics runs only on line-1`);
    const who = await verifyWorkloadToken(summary.historianToken, {
      roots: controlPlane.deps.authority.roots(),
      trustDomain: DEMO_TRUST_DOMAIN,
      audience: 'historian',
    });
    say(`   its workload token for "historian" verifies offline against the fleet CA: ${who.spiffeId}`);
    say(`   a token for "payroll" was refused: ${summary.payrollRefused}`);

    return {
      controlPlane,
      registry,
      agents,
      adminToken,
      caFile,
      logFile,
      observed: { readings, summary, tokenSubject: who.spiffeId, refusedAudience: summary.payrollRefused, secondsToAllRunning },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function deploy(admin: OperatorClient, app: DemoApp, placement: Record<string, unknown>): Promise<void> {
  await admin.call('POST', '/api/v1/admin/deployments', {
    id: `${app}-demo`,
    app,
    version: '1.0.0',
    grants: DEMO_GRANTS[app].grants,
    tier: 'worker',
    ...placement,
  });
}

/** Which engine the devices run their apps on (each agent chose with `auto`), and why not Wasmtime when it fell back. */
function sayEngines(agents: Map<string, RunningAgent>, say: (line: string) => void): void {
  const names = new Set([...agents.values()].map((a) => a.runtime.engine.name));
  say(`   their apps run on ${[...names].join(' and ')}`);
  const fallback = [...agents.values()].find((a) => a.engineFallback)?.engineFallback;
  if (fallback) say(`   (Wasmtime is not used: ${fallback})`);
}
