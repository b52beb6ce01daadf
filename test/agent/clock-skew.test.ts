import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libfaketime, skewableClockEnv } from '../chaos/environment.js';
import { fixture, httpGet, variant, startAgentProcess, startWorld, waitFor, type AgentProcess, type World } from './support.js';

/**
 * A device whose clock is an hour off the control plane's (docs/trust.md, "Clock skew"): the
 * agent is its own process under libfaketime (as in the chaos test), the control plane a fresh
 * one whose server certificate was issued moments ago. An hour behind, the device sees that
 * certificate as valid only because certificates are backdated; an hour ahead, it sees the
 * signed desired state as unexpired. Each onboards, adopts the deployment and runs the app.
 */
describe.skipIf(!libfaketime())("a device an hour off the control plane's clock", () => {
  let world: World;
  const agents: AgentProcess[] = [];
  const skews = [
    { name: 'behind-1', offset: '-1h', hours: -1 },
    { name: 'ahead-1', offset: '+1h', hours: 1 },
  ];

  beforeAll(async () => {
    world = await startWorld();
    await world.publish('web', '1.0.0', fixture('http-server'));
    await world.publish('web', '1.1.0', variant(fixture('http-server'), '1.1.0'));
    for (const s of skews) {
      const clockFile = join(world.dir, `clock-${s.name}`);
      writeFileSync(clockFile, `${s.offset}\n`);
      agents.push(await startAgentProcess(world, { name: s.name, env: skewableClockEnv(clockFile) }));
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await world?.stop();
  });

  it('onboards, adopts a deployment and runs the app, an hour behind and an hour ahead', async () => {
    for (const a of agents) await a.waitForLog((l) => l.msg === 'device agent started', 'onboarding', 60_000);
    await world.deploy({
      id: 'web-skew',
      app: 'web',
      version: '1.0.0',
      grants: { 'inbound-http': { route: '/web' }, clocks: {} },
      deviceIds: skews.map((s) => s.name),
    });
    await waitFor(async () => (await world.status('web-skew')).counts?.installed === 2, 90_000, 'both skewed devices report the app installed');
    for (const [i, s] of skews.entries()) {
      const agent = agents[i]!;
      expect(await httpGet(await agent.gatewayPort(), `/web/${s.name}`)).toEqual({ status: 200, body: `GET /web/${s.name} ` });
      // The agent really lived on the moved clock (pino stamps each line with its Date.now()).
      const started = agent.logs.find((l) => l.msg === 'device agent started')!;
      expect(Math.abs((started.time as number) - Date.now() - s.hours * 3_600_000)).toBeLessThan(10 * 60_000);
      expect(agent.logs.some((l) => /certificate is not yet valid|not yet valid/i.test(String(l.msg) + JSON.stringify(l.err ?? '')))).toBe(false);
    }
  }, 150_000);

  it('takes a rolling update (probation, then installed) an hour behind and an hour ahead', async () => {
    const rolling = await world.h.admin('POST', '/api/v1/admin/deployments/web-skew/rollouts', { version: '1.1.0', batchSize: 1 });
    expect(rolling.status, JSON.stringify(rolling.body)).toBe(202);
    const done = await waitFor(
      async () => {
        const s = await world.status('web-skew');
        return s.rollout?.state === 'done' && s.counts?.installed === 2 ? s : undefined;
      },
      90_000,
      'the rollout to finish on both skewed devices',
    );
    expect(done.versions).toEqual({ '1.1.0': 2 });
    for (const [i, s] of skews.entries()) {
      expect(
        agents[i]!.logs.some((l) => l.msg === 'app passed its probation' && l.version === '1.1.0'),
        `${s.name} passed probation`,
      ).toBe(true);
      expect((await httpGet(await agents[i]!.gatewayPort(), '/web/again')).status).toBe(200);
    }
  }, 150_000);
});
