import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../common/logger.js';
import { startAgent, type RunningAgent } from '../../runtime/agent/agent.js';
import { fixture, startInProcessAgent, startWorld, variant, waitFor, type InProcessAgent, type LogLine, type World } from './support.js';

// Last-known-good (docs/agent.md) and rollout pauses (docs/scheduling.md), with real agents
// against a real control plane. The periodic reconcile is left to the test (runNow), so a wave
// timeout is decided when the test asks, never by a timer racing it.
describe('last-known-good: a crashing update goes back by itself, and the rollout pauses', () => {
  let world: World;
  const running: RunningAgent[] = [];
  beforeAll(async () => {
    world = await startWorld({ reconcileIntervalMs: 3_600_000 });
    await world.publish('sensor', '1.0.0', variant(fixture('hello'), 'lkg-good'));
    // `run` traps at once: every instance crashes as it starts, a restart storm.
    await world.publish('sensor', '2.0.0', variant(fixture('trap'), 'lkg-bad'));
    await world.publish('sensor', '1.1.0', variant(fixture('hello'), 'lkg-next'));
    await world.publish('meter', '1.0.0', variant(fixture('hello'), 'lkg-meter'));
  }, 120_000);
  afterAll(async () => {
    for (const a of running) await a.stop().catch(() => undefined);
    await world?.stop();
  });

  /** `windowSeconds`: long enough that the trapping version's storm falls inside it, short where an update must pass. */
  const start = async (name: string, windowSeconds: number): Promise<InProcessAgent> => {
    const a = await startInProcessAgent(world, name, { lastKnownGood: { windowSeconds, maxRestarts: 3 } });
    running.push(a.agent);
    return a;
  };
  const rollout = async (id: string, body: Record<string, unknown>): Promise<void> => {
    const answer = await world.h.admin('POST', `/api/v1/admin/deployments/${id}/rollouts`, body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  };

  it('rolls a trapping version back to the previous one, reports it, keeps it across a restart, and pauses the rollout', async () => {
    const { agent, config, changes, lines } = await start('lkg-1', 30);
    await world.deploy({ id: 'sensor-lkg', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['lkg-1'] });
    await waitFor(async () => (await world.status('sensor-lkg')).counts?.installed === 1, 60_000, '1.0.0 installed');

    await rollout('sensor-lkg', { version: '2.0.0' });
    const rolledBack = await waitFor(() => changes.find((c) => c.deploymentId === 'sensor-lkg' && c.state === 'failed'), 60_000, 'the device rolls back');
    expect(rolledBack.version).toBe('2.0.0');
    expect(rolledBack.error?.code).toBe('agent.rolled_back');
    expect(rolledBack.error?.message).toMatch(/version 2\.0\.0 .*rolled back to 1\.0\.0/);
    expect(rolledBack.rollback).toMatchObject({ fromVersion: '2.0.0', toVersion: '1.0.0', reason: expect.stringMatching(/^(restart-storm|start-failed)$/) });
    // 2.0.0 was never reported installed: it did not pass its probation.
    expect(changes.some((c) => c.version === '2.0.0' && c.state === 'installed')).toBe(false);
    const app = agent.reconciler.apps().find((a) => a.deploymentId === 'sensor-lkg')!;
    expect(app.plan.version).toBe('1.0.0');
    expect(app.supervisor.status().state).toBe('running');
    expect(lines.some((l) => l.msg === 'app rolled back to its last known good version' && l.version === '2.0.0' && l.goodVersion === '1.0.0')).toBe(true);

    // The control plane: the report is recorded on 2.0.0 with its reason, and the rollout paused naming the device.
    const paused = await waitFor(
      async () => {
        const s = await world.status('sensor-lkg');
        return s.rollout?.state === 'paused' ? s : undefined;
      },
      30_000,
      'the rollout pauses',
    );
    expect(paused.rollout.reason).toMatchObject({ code: 'rollout.device_rolled_back', version: '2.0.0', devices: ['lkg-1'] });
    expect(paused.rollout.reason.message).toContain("'lkg-1'");
    expect(paused.rollout.reason.message).toContain('2.0.0');
    expect(paused.errors).toEqual([{ deviceId: 'lkg-1', version: '2.0.0', error: expect.objectContaining({ code: 'agent.rolled_back', source: 'device' }) }]);
    // No further wave and no new rollout while paused (the existing API: roll back first).
    expect((await world.h.admin('POST', '/api/v1/admin/deployments/sensor-lkg/rollouts', { version: '1.1.0' })).status).toBe(409);

    // A new desired state that leaves this deployment's document as it was does not try 2.0.0 again.
    const mark = changes.length;
    await world.deploy({ id: 'meter-lkg', app: 'meter', version: '1.0.0', grants: { log: {} }, deviceIds: ['lkg-1'] });
    await waitFor(() => changes.some((c) => c.deploymentId === 'meter-lkg' && c.state === 'installed'), 60_000, 'the next desired state applied');
    expect(changes.slice(mark).filter((c) => c.deploymentId === 'sensor-lkg')).toEqual([]);
    expect(agent.reconciler.apps().find((a) => a.deploymentId === 'sensor-lkg')!.plan.version).toBe('1.0.0');

    // A restart keeps the rollback: 1.0.0 comes back from disk, 2.0.0 is not tried again.
    await agent.stop();
    running.splice(running.indexOf(agent), 1);
    const restartLines: LogLine[] = [];
    const again = await startAgent(config, {
      logger: createLogger({ name: 'lkg-1', level: 'debug' }, { write: (l: string) => void restartLines.push(JSON.parse(l)) }),
    });
    running.push(again);
    const restored = again.reconciler.apps().find((a) => a.deploymentId === 'sensor-lkg')!;
    expect(restored.plan.version).toBe('1.0.0');
    expect(restartLines.some((l) => l.msg === 'rolled-back deployment restored at its last known good version' && l.rolledBackFrom === '2.0.0')).toBe(true);
    expect(restartLines.some((l) => (l.msg === 'app started' || l.msg === 'app updated') && l.version === '2.0.0')).toBe(false);
    const records = JSON.parse(readFileSync(join(config.dataDir, 'desired', 'last-known-good.json'), 'utf8')).records;
    expect(records).toEqual([
      expect.objectContaining({
        deploymentId: 'sensor-lkg',
        state: 'rolled-back',
        candidate: expect.objectContaining({ version: '2.0.0' }),
        good: expect.objectContaining({ version: '1.0.0' }),
      }),
    ]);

    // The operator rolls the deployment back: the device already runs 1.0.0 and reports it installed.
    const back = await world.h.admin('POST', '/api/v1/admin/deployments/sensor-lkg/rollbacks', {});
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    const settled = await waitFor(
      async () => {
        const s = await world.status('sensor-lkg');
        return s.rollout?.state === 'rolled-back' && s.counts?.installed === 1 ? s : undefined;
      },
      60_000,
      'the deployment back on 1.0.0 and installed',
    );
    expect(settled.versions).toEqual({ '1.0.0': 1 });
    expect(settled.rollout.reason).toBeNull();
    expect(again.reconciler.apps().find((a) => a.deploymentId === 'sensor-lkg')!.plan.version).toBe('1.0.0');
  }, 240_000);

  it('pauses a rollout whose wave outlives its timeout, naming the device that never reported', async () => {
    const [one, two] = [await start('wave-1', 1), await start('wave-2', 1)];
    await world.deploy({ id: 'sensor-wave', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['wave-1', 'wave-2'] });
    await waitFor(async () => (await world.status('sensor-wave')).counts?.installed === 2, 60_000, 'both on 1.0.0');
    await two.agent.stop();
    running.splice(running.indexOf(two.agent), 1);

    await rollout('sensor-wave', { version: '1.1.0', batchSize: 2, waveTimeoutSeconds: 1 });
    // wave-1 installs 1.1.0 (after its probation); wave-2 is stopped and never hears of it.
    await waitFor(
      () => one.changes.some((c) => c.deploymentId === 'sensor-wave' && c.version === '1.1.0' && c.state === 'installed'),
      60_000,
      'wave-1 on 1.1.0',
    );
    const reported = await waitFor(
      async () => {
        const s = await world.status('sensor-wave');
        return s.versions?.['1.1.0'] === 2 && s.counts?.installed === 1 ? s : undefined;
      },
      30_000,
      'wave-1 reported installed',
    );
    expect(reported.rollout.state).toBe('rolling');
    expect(reported.rollout.waveTimeoutSeconds).toBe(1);

    // The periodic reconcile decides it: past the timeout the rollout pauses (bounded: a few passes).
    const paused = await waitFor(
      async () => {
        const pass = await world.h.cp.reconciler!.runNow();
        const s = await world.status('sensor-wave');
        return s.rollout?.state === 'paused' ? { pass, s } : undefined;
      },
      30_000,
      'the rollout pauses on its wave timeout',
    );
    expect(paused.pass).toMatchObject({ skipped: false, pausedRollouts: ['sensor-wave'] });
    expect(paused.s.rollout.reason).toMatchObject({ code: 'rollout.wave_timeout', version: '1.1.0', devices: ['wave-2'] });
    expect(paused.s.rollout.reason.message).toContain("'wave-2'");
    expect(paused.s.rollout.reason.message).not.toContain("'wave-1'");
    // Paused stays paused; the operator rolls back as the API allows.
    expect(await world.h.cp.reconciler!.runNow()).toMatchObject({ pausedRollouts: [] });
    expect((await world.h.admin('POST', '/api/v1/admin/deployments/sensor-wave/rollbacks', {})).status).toBe(200);
    await waitFor(() => one.agent.reconciler.apps().find((a) => a.deploymentId === 'sensor-wave')?.plan.version === '1.0.0', 60_000, 'wave-1 back on 1.0.0');
  }, 240_000);
});
