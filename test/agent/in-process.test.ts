import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { RunningAgent } from '../../runtime/agent/agent.js';
import { parseAgentConfig } from '../../runtime/agent/config.js';
import { loadIdentity } from '../../runtime/agent/identity-files.js';
import { fixture, startInProcessAgent, startWorld, variant, waitFor, type World } from './support.js';

/**
 * The programmatic entry (`startAgent`, what the demo and the benchmark build on), with device
 * certificates short enough that the agent renews during the test: it keeps following its
 * signed desired state with the renewed certificate (the statement is bound to it), and pulls
 * from the control plane's artifact mirror with it.
 */
describe('startAgent in process, across a certificate renewal', () => {
  let world: World;
  let agent: RunningAgent | undefined;
  beforeAll(async () => {
    world = await startWorld({ certificateLifetimeMs: 40_000 });
    await world.publish('sensor', '1.0.0', variant(fixture('hello'), 'renew'));
  });
  afterAll(async () => {
    await agent?.stop();
    await world?.stop();
  });

  it('onboards, renews its certificate in time, and still adopts and runs new desired state', async () => {
    // Certificates live 40 s from issue (the backdating is not lifetime): at 0.4, renewal is due ~16 s in.
    const started = await startInProcessAgent(world, 'inproc-1', {
      sync: { longPollSeconds: 2, pollIntervalSeconds: 0.1, backoffInitialSeconds: 0.2, backoffMaxSeconds: 1, renewalFraction: 0.4 },
    });
    agent = started.agent;
    const { config, lines, changes } = started;
    expect(agent.deviceId).toBe('inproc-1');
    const first = (await loadIdentity(join(config.dataDir, 'identity')))!;
    await waitFor(() => lines.some((l) => l.msg === 'capabilities reported'), 20_000, 'capabilities');
    await waitFor(() => lines.some((l) => l.msg === 'device certificate renewed'), 40_000, 'renewal');
    const renewed = (await loadIdentity(join(config.dataDir, 'identity')))!;
    expect(renewed.certificatePem).not.toBe(first.certificatePem);
    expect(renewed.keyPem).not.toBe(first.keyPem);

    await world.deploy({ id: 'sensor-inproc', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['inproc-1'] });
    await waitFor(() => changes.some((c) => c.deploymentId === 'sensor-inproc' && c.state === 'installed'), 30_000, 'installed after renewal');
    expect(lines.find((l) => l.msg === 'artifact pulled and verified')).toMatchObject({ deploymentId: 'sensor-inproc', vendor: 'acme' });
    await waitFor(() => lines.some((l) => l.msg === 'hello from wat' && l.app === 'sensor' && l.deviceId === 'inproc-1'), 10_000, 'the app ran');
    await waitFor(async () => (await world.status('sensor-inproc')).counts?.installed === 1, 30_000, 'reported installed');
    // Reported per deployment while the state is applied; adopted (and saved) once all are done.
    await waitFor(() => agent!.adoptedVersion() > 1, 10_000, 'the new state adopted');
    expect(agent.reconciler.apps().map((a) => a.plan.app)).toEqual(['sensor']);
    expect(lines.filter((l) => l.security === true)).toEqual([]);
  });

  it("reports each installed app's usage every sync.usageReportSeconds, between state changes, and the control plane keeps a sample", async () => {
    const started = await startInProcessAgent(world, 'inproc-usage', {
      sync: { longPollSeconds: 2, pollIntervalSeconds: 0.1, backoffInitialSeconds: 0.2, backoffMaxSeconds: 1, usageReportSeconds: 1 },
    });
    const { changes } = started;
    try {
      await world.deploy({ id: 'sensor-usage', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['inproc-usage'] });
      const installed = () => changes.filter((c) => c.deploymentId === 'sensor-usage' && c.state === 'installed');
      await waitFor(() => installed().length >= 4, 40_000, 'the install and three usage reports after it');
      // Every repeat carries the app's account as it is now, for the same document: no new state.
      expect(new Set(installed().map((c) => c.document)).size).toBe(1);
      for (const c of installed()) expect(c.usage).toMatchObject({ memory: expect.any(Object), cpu: expect.any(Object) });
      const history = await world.h.admin('GET', '/api/v1/admin/devices/inproc-usage/usage?deploymentId=sensor-usage');
      expect(history.status).toBe(200);
      expect(history.body.samples.length).toBeGreaterThanOrEqual(1);
    } finally {
      await started.agent.stop();
    }
  }, 90_000);

  it('reports usage every five minutes unless configured, and only with state changes at 0', () => {
    const base = { controlPlane: { url: 'https://cp.example:8443', ca: 'ca.pem' }, dataDir: 'data' };
    expect(parseAgentConfig(base).sync.usageReportSeconds).toBe(300);
    expect(parseAgentConfig({ ...base, sync: { usageReportSeconds: 0 } }).sync.usageReportSeconds).toBe(0);
    // Below a second it would flood the control plane for samples it keeps one a minute of.
    expect(() => parseAgentConfig({ ...base, sync: { usageReportSeconds: 0.5 } })).toThrow(/sync\.usageReportSeconds/);
  });
});
