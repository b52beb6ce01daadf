import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, startAgentProcess, startWorld, variant, waitFor, type AgentProcess, type World } from './support.js';

// Each test project runs its agents on one engine (vitest.config.ts sets BERTH_ENGINE).
const ENGINE = process.env.BERTH_ENGINE === 'wasmtime' ? 'wasmtime' : 'jco';
const ENGINE_NAME = ENGINE === 'wasmtime' ? /^wasmtime@\d+\.\d+\.\d+\+\w+$/ : /^v8\+jco@\d+\.\d+\.\d+$/;

describe('device agent processes against a real control plane and registry', () => {
  let world: World;
  let a: AgentProcess;
  let b: AgentProcess;
  beforeAll(async () => {
    world = await startWorld();
    await world.publish('sensor', '1.0.0', variant(fixture('hello'), 'v1'));
    await world.publish('sensor', '1.1.0', variant(fixture('hello'), 'v2'));
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await world?.stop();
  });

  it('onboards two devices with enrollment tokens and reports real capabilities', async () => {
    [a, b] = await Promise.all([startAgentProcess(world, { name: 'line-1' }), startAgentProcess(world, { name: 'line-2' })]);
    for (const agent of [a, b]) {
      await agent.waitForLog((l) => l.msg === 'device onboarded', 'onboarding');
      await agent.waitForLog((l) => l.msg === 'capabilities reported', 'capabilities');
      await agent.waitForLog((l) => l.msg === 'desired state adopted' && l.manifestVersion >= 1, 'first desired state');
      expect(existsSync(join(agent.dataDir, 'identity', 'desired-state-keys.json'))).toBe(true);
      expect(existsSync(join(agent.dataDir, 'node-binding.json'))).toBe(true);
    }
    const rows = await world.h.cp.deps.store.query<{ manifest: any }>('SELECT manifest FROM device_capabilities WHERE device_id = $1', ['line-1']);
    const caps = rows[0]!.manifest;
    expect(caps.properties.id).toBe('line-1');
    expect(caps.properties.cpus[0].cores).toBeGreaterThan(0);
    expect(caps.properties.memory).toMatch(/^[1-9][0-9]*Mi$/);
    expect(caps.properties.storage).toMatch(/^[1-9][0-9]*Mi$/);
    expect(caps.labels).toEqual({ site: 'test', name: 'line-1' });
    // The engine its apps run on: the test project's (BERTH_ENGINE), named with its version.
    expect(caps['x-berth-extensions'].engine).toEqual({ kind: ENGINE, name: expect.stringMatching(ENGINE_NAME) });
    expect(a.logs.filter((l) => l.msg === 'engine selected')).toEqual([expect.objectContaining({ level: 30, engine: caps['x-berth-extensions'].engine.name })]);
  });

  it('deploys one app to both devices: pulled, verified, started, reported installed', async () => {
    await world.deploy({ id: 'sensor-all', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['line-1', 'line-2'] });
    for (const agent of [a, b]) {
      await agent.waitForLog((l) => l.msg === 'artifact pulled and verified' && l.deploymentId === 'sensor-all', 'artifact verified');
      await agent.waitForLog((l) => l.msg === 'hello from wat' && l.vendor === 'acme' && l.app === 'sensor', 'the app ran, its log line tagged');
    }
    const status = await waitFor(
      async () => {
        const s = await world.status('sensor-all');
        return s.counts?.installed === 2 ? s : undefined;
      },
      30_000,
      'both devices report installed',
    );
    expect(status.versions).toEqual({ '1.0.0': 2 });
    // Each device's report carried its app's resource usage (docs/accounting.md), and the engine it runs on.
    for (const device of ['line-1', 'line-2'])
      expect(status.usage[device]).toMatchObject({
        restarts: 0,
        memory: { bytes: expect.any(Number) },
        cpu: { busyMs: expect.any(Number) },
        hostCalls: expect.any(Object),
        engine: expect.stringMatching(ENGINE_NAME),
      });
  });

  it('updates to a new version: the new one is started, the old one stopped, and reported', async () => {
    const from = a.logs.length;
    const answer = await world.h.admin('POST', '/api/v1/admin/deployments/sensor-all/rollouts', { version: '1.1.0' });
    expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
    await a.waitForLog((l) => l.msg === 'app updated' && l.version === '1.1.0' && l.updatedFrom === '1.0.0', 'update on line-1', 30_000, from);
    const status = await waitFor(
      async () => {
        const s = await world.status('sensor-all');
        return s.versions?.['1.1.0'] === 2 && s.counts?.installed === 2 ? s : undefined;
      },
      60_000,
      'both devices on 1.1.0 and installed',
    );
    expect(status.counts.failed).toBe(0);
    expect(b.logs.some((l) => l.msg === 'app updated' && l.version === '1.1.0')).toBe(true);
  });

  it('rolls back to the previous version on both devices', async () => {
    const from = [a.logs.length, b.logs.length];
    const answer = await world.h.admin('POST', '/api/v1/admin/deployments/sensor-all/rollbacks', {});
    expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
    for (const [i, agent] of [a, b].entries()) {
      await agent.waitForLog((l) => l.msg === 'app updated' && l.version === '1.0.0' && l.updatedFrom === '1.1.0', 'rollback', 30_000, from[i]);
    }
    await waitFor(
      async () => {
        const s = await world.status('sensor-all');
        return s.versions?.['1.0.0'] === 2 && s.counts?.installed === 2;
      },
      60_000,
      'both devices back on 1.0.0 and installed',
    );
    // The rolled-back artifact was verified before: it comes from the device's own store.
    expect(a.logs.slice(from[0]).some((l) => l.msg === 'artifact pulled and verified')).toBe(false);
  });

  it('removes the deployment: the app is stopped on both devices and the adopted state has no deployments', async () => {
    const marks = [a.logs.length, b.logs.length];
    expect((await world.h.admin('DELETE', '/api/v1/admin/deployments/sensor-all')).status).toBeLessThan(300);
    for (const [i, agent] of [a, b].entries()) {
      const removed = await agent.waitForLog((l) => l.msg === 'app removed' && l.deploymentId === 'sensor-all', 'removal', 30_000, marks[i]);
      expect(removed.usage.instances).toBeGreaterThanOrEqual(1);
      await waitFor(
        () => JSON.parse(readFileSync(join(agent.dataDir, 'desired', 'state.json'), 'utf8')).deployments.length === 0,
        10_000,
        'empty adopted state',
      );
    }
  });
});
