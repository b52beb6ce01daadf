import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { createLogger } from '../../common/logger.js';
import { startAgent, type RunningAgent } from '../../runtime/agent/agent.js';
import { ADVISORY_REFUSED_CODE } from '../../wire/margo/status.js';
import { fixture, startInProcessAgent, startWorld, variant, waitFor, type InProcessAgent, type LogLine, type World } from './support.js';

function sbomWith(parserVersion: string): Record<string, unknown> {
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    components: [{ type: 'library', name: 'parser', group: '@acme', version: parserVersion, purl: `pkg:npm/%40acme/parser@${parserVersion}` }],
  };
}

/** A loopback port nothing listens on: the control plane as an offline device sees it. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Advisories reach real agents through the signed desired state (docs/vulnerability-response.md).
describe('advisories on devices: rollback and stop, honoured offline and by the last-known-good fallback', () => {
  let world: World;
  const running: RunningAgent[] = [];
  beforeAll(async () => {
    world = await startWorld({ reconcileIntervalMs: 3_600_000 });
    await world.publish('sensor', '1.0.0', variant(fixture('hello'), 'adv-old'));
    await world.publish('sensor', '1.1.0', variant(fixture('hello'), 'adv-new'));
    // meter: 1.0.0 ships parser 2.2.0; 2.0.0 and 2.1.0 ship the vulnerable 2.3.0 (their signed SBOMs say so).
    for (const [version, parser] of [
      ['1.0.0', '2.2.0'],
      ['2.0.0', '2.3.0'],
      ['2.1.0', '2.3.0'],
    ] as const)
      await world.publish('meter', version, variant(fixture('hello'), `meter-${version}`), { sbom: sbomWith(parser) });
  }, 120_000);
  afterAll(async () => {
    for (const a of running) await a.stop().catch(() => undefined);
    await world?.stop();
  });

  const start = async (name: string): Promise<InProcessAgent> => {
    // Last-known-good on (a 1 s health window): were 1.1.0 still a fallback, the move off it would go on probation.
    const a = await startInProcessAgent(world, name);
    running.push(a.agent);
    return a;
  };
  /** Files an advisory as an admin; it must be taken (201). */
  const fileAdvisory = async (body: Record<string, unknown>) => {
    const answer = await world.h.admin('POST', '/api/v1/advisories', body);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return answer.body;
  };
  const versionOn = (a: InProcessAgent) => a.agent.reconciler.apps().find((x) => x.deploymentId === 'sensor-adv')?.plan.version;

  it('moves both devices off the affected version at once, then stops the app everywhere, and keeps it stopped across an offline restart', async () => {
    const [one, two, calm] = [await start('adv-1'), await start('adv-2'), await start('adv-3')];
    await world.deploy({ id: 'sensor-adv', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['adv-1', 'adv-2'] });
    await world.deploy({ id: 'sensor-calm', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['adv-3'] });
    await waitFor(async () => (await world.status('sensor-adv')).counts?.installed === 2, 60_000, '1.0.0 installed on both');
    await waitFor(async () => (await world.status('sensor-calm')).counts?.installed === 1, 60_000, '1.0.0 installed on the third');
    for (const [device, site] of [
      ['adv-1', 'north'],
      ['adv-2', 'north'],
      ['adv-3', 'south'],
    ])
      await world.h.cp.deps.store.query(`UPDATE devices SET labels = jsonb_build_object('site', $2::text) WHERE id = $1`, [device, site]);
    const rolled = await world.h.admin('POST', '/api/v1/admin/deployments/sensor-adv/rollouts', { version: '1.1.0', batchSize: 2 });
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(202);
    await waitFor(async () => (await world.status('sensor-adv')).rollout?.state === 'done', 60_000, 'the rollout to 1.1.0 done');

    const filed = await fileAdvisory({
      id: 'CVE-2026-30001',
      summary: 'sensor 1.1.0 leaks readings',
      severity: 'critical',
      action: 'rollback',
      affected: [{ app: 'sensor', versions: '>=1.1.0' }],
    });
    expect(filed.moved).toEqual([expect.objectContaining({ deploymentId: 'sensor-adv', to: '1.0.0', devices: ['adv-1', 'adv-2'] })]);
    // Installed at once, not held on probation: the affected version is no fallback.
    await waitFor(
      async () => (await world.status('sensor-adv')).versions?.['1.0.0'] === 2 && (await world.status('sensor-adv')).counts?.installed === 2,
      60_000,
      'both back on 1.0.0',
    );
    expect(versionOn(one)).toBe('1.0.0');
    expect(one.lines.some((l) => l.msg === 'app on probation after its update' && l.version === '1.0.0')).toBe(false);
    // The third device never ran 1.1.0: its document now names the refused digest, and its app goes on without a restart.
    const calmDocs = () => calm.changes.filter((c) => c.deploymentId === 'sensor-calm' && c.state === 'installed').map((c) => c.document);
    await waitFor(() => new Set(calmDocs()).size === 2, 30_000, 'the third device reports its new document installed');
    expect(calm.lines.filter((l) => l.msg === 'app updated' || (l.msg === 'app started' && l.app === 'sensor'))).toHaveLength(1);

    const stop = await fileAdvisory({
      id: 'CVE-2026-30002',
      summary: 'every sensor version is exploited',
      severity: 'critical',
      action: 'stop',
      affected: [{ app: 'sensor', versions: '*' }],
    });
    expect(stop.stopped).toEqual([
      expect.objectContaining({ deploymentId: 'sensor-adv', devices: ['adv-1', 'adv-2'] }),
      expect.objectContaining({ deploymentId: 'sensor-calm', devices: ['adv-3'] }),
    ]);
    for (const a of [one, two]) {
      const refused = await waitFor(
        () => a.changes.find((c) => c.deploymentId === 'sensor-adv' && c.error?.code === ADVISORY_REFUSED_CODE),
        60_000,
        'the device stops the app',
      );
      expect(refused.state).toBe('failed');
      expect(refused.error!.message).toContain('CVE-2026-30002');
      expect(versionOn(a)).toBeUndefined();
      expect(a.lines.some((l) => l.event === 'agent.advisory_refused' && l.stopped === true)).toBe(true);
    }
    // The control plane hears why from each device.
    const status = await waitFor(
      async () => {
        const s = await world.status('sensor-adv');
        return s.errors?.length === 2 ? s : undefined;
      },
      30_000,
      'both refusals reported',
    );
    expect(status.errors.map((e: { error: { code: string } }) => e.error.code)).toEqual([ADVISORY_REFUSED_CODE, ADVISORY_REFUSED_CODE]);

    // Who ran what, from when to when: 1.1.0 (the rollback advisory's) on the two moved devices only.
    const rollbackExposure = (await world.h.admin('GET', '/api/v1/advisories/CVE-2026-30001/exposure')).body;
    expect(rollbackExposure.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual(['adv-1', 'adv-2']);
    for (const d of rollbackExposure.devices) {
      expect(d).toMatchObject({ group: 'north', offlineSince: null });
      const [x] = d.deployments;
      expect(x.exposed).toEqual([{ version: '1.1.0', digest: expect.stringMatching(/^sha256:/), from: expect.any(String), to: expect.any(String) }]);
      expect(Date.parse(x.exposed[0].from)).toBeLessThan(Date.parse(x.exposed[0].to));
      expect(x.now).toMatchObject({ state: 'stopped-by-advisory', version: '1.0.0', code: ADVISORY_REFUSED_CODE });
    }
    expect(rollbackExposure.groups).toEqual([{ group: 'north', devices: 2, exposedNow: 0 }]);
    // The stop advisory's: every version, on all three devices, in order and without overlap.
    const stopExposure = (await world.h.admin('GET', '/api/v1/advisories/CVE-2026-30002/exposure')).body;
    const stretches = (id: string) => stopExposure.devices.find((d: { deviceId: string }) => d.deviceId === id).deployments[0].exposed;
    expect(stretches('adv-1').map((e: { version: string }) => e.version)).toEqual(['1.0.0', '1.1.0', '1.0.0']);
    expect(stretches('adv-3').map((e: { version: string }) => e.version)).toEqual(['1.0.0']);
    const times = stretches('adv-1').flatMap((e: { from: string; to: string }) => [Date.parse(e.from), Date.parse(e.to)]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(stopExposure.groups).toEqual([
      { group: 'north', devices: 2, exposedNow: 0 },
      { group: 'south', devices: 1, exposedNow: 0 },
    ]);
    const csv = await world.h.admin('GET', '/api/v1/advisories/CVE-2026-30002/exposure?format=csv');
    expect(csv.headers['content-type']).toContain('text/csv');
    const csvLines = String(csv.body).trim().split('\r\n');
    expect(csvLines[0]).toBe('device_id,group,offline_since,deployment_id,app,version,digest,from,to,now,now_version,now_since');
    expect(csvLines).toHaveLength(1 + 3 + 3 + 1);

    // Offline restart from the last adopted state: the app stays stopped.
    await one.agent.stop();
    running.splice(running.indexOf(one.agent), 1);
    const offline = { ...one.config, controlPlane: { ...one.config.controlPlane, url: `https://127.0.0.1:${await deadPort()}` } };
    const lines: LogLine[] = [];
    const again = await startAgent(offline, {
      logger: createLogger({ name: 'adv-1-offline', level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) }),
    });
    running.push(again);
    // The look at the current desired state found nothing to reach; the restore went on without it.
    expect(lines.some((l) => l.msg === 'control plane not reached before the offline restore; restoring the adopted state')).toBe(true);
    expect(lines.find((l) => l.msg === 'adopted state restored from disk')).toMatchObject({ apps: 0, failed: 0 });
    expect(again.reconciler.apps()).toEqual([]);
    expect(lines.some((l) => l.event === 'agent.advisory_refused' && l.deploymentId === 'sensor-adv')).toBe(true);
    expect(lines.some((l) => l.msg === 'app started' && l.app === 'sensor')).toBe(false);
  }, 240_000);

  it('by purl: devices roll back, one that was off during the advisory follows once back, the report has all three, and VEX not_affected lets the newer version run', async () => {
    const agents = [await start('m-1'), await start('m-2'), await start('m-3')];
    const meterOn = (a: InProcessAgent) => a.agent.reconciler.apps().find((x) => x.deploymentId === 'meter-all')?.plan.version;
    await world.deploy({ id: 'meter-all', app: 'meter', version: '2.0.0', grants: { log: {} }, deviceIds: ['m-1', 'm-2', 'm-3'] });
    await waitFor(async () => (await world.status('meter-all')).counts?.installed === 3, 60_000, '2.0.0 installed on all three');
    // m-3 is switched off before the advisory.
    const off = agents[2]!;
    await off.agent.stop();
    running.splice(running.indexOf(off.agent), 1);
    const filed = await fileAdvisory({
      id: 'GHSA-c2f4-m6pq-r7vw',
      summary: 'parser 2.3.x executes input',
      severity: 'critical',
      action: 'rollback',
      affected: [{ purl: 'pkg:npm/@acme/parser', versions: '>=2.3.0 <2.4.0' }],
    });
    const filedAt = Date.now();
    expect(filed.affectedVersions.map((v: { version: string }) => v.version)).toEqual(['2.0.0', '2.1.0']);
    expect(filed.moved).toEqual([expect.objectContaining({ deploymentId: 'meter-all', from: ['2.0.0'], to: '1.0.0', devices: ['m-1', 'm-2', 'm-3'] })]);
    await waitFor(() => meterOn(agents[0]!) === '1.0.0' && meterOn(agents[1]!) === '1.0.0', 60_000, 'the two running devices roll back');

    // Back on, m-3 looks at the current desired state before restoring its last adopted one: it
    // never starts the affected digest, says why, then follows to 1.0.0 and reports it.
    await new Promise((r) => setTimeout(r, 300));
    const lines: LogLine[] = [];
    const back = await startAgent(off.config, {
      logger: createLogger({ name: 'm-3-back', level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) }),
    });
    running.push(back);
    expect(lines.find((l) => l.msg === 'newer desired state seen before the offline restore')).toMatchObject({ refused: 2 });
    expect(lines.find((l) => l.msg === 'adopted state restored from disk')).toMatchObject({ apps: 0, failed: 0 });
    expect(lines.some((l) => l.event === 'agent.advisory_refused' && l.deploymentId === 'meter-all')).toBe(true);
    await waitFor(
      async () => (await world.status('meter-all')).versions?.['1.0.0'] === 3 && (await world.status('meter-all')).counts?.installed === 3,
      60_000,
      'all three report 1.0.0',
    );
    const exposure = (await world.h.admin('GET', '/api/v1/advisories/GHSA-c2f4-m6pq-r7vw/exposure')).body;
    expect(exposure.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual(['m-1', 'm-2', 'm-3']);
    const endOf = (id: string) => Date.parse(exposure.devices.find((d: { deviceId: string }) => d.deviceId === id).deployments[0].exposed[0].to);
    for (const d of exposure.devices) {
      expect(d.deployments[0].exposed).toHaveLength(1);
      expect(d.deployments[0].exposed[0].version).toBe('2.0.0');
      expect(d.deployments[0].now).toMatchObject({ state: 'running-unaffected', version: '1.0.0' });
    }
    // m-3 ran the affected version until it came back, after the other two had moved.
    expect(endOf('m-3')).toBeGreaterThan(Math.max(endOf('m-1'), endOf('m-2')));
    expect(endOf('m-3')).toBeGreaterThanOrEqual(filedAt);
    expect(lines.some((l) => l.msg === 'app started' && l.deploymentId === 'meter-all' && l.version === '2.0.0')).toBe(false);
    expect(lines.some((l) => l.msg === 'app started' && l.deploymentId === 'meter-all' && l.version === '1.0.0')).toBe(true);

    // The vendor's analysis: 2.1.0 never calls the parser. Rolling out to it is allowed again, and it keeps running.
    const vex = await world.h.admin('PUT', '/api/v1/advisories/GHSA-c2f4-m6pq-r7vw/vex', {
      statements: [{ app: 'meter', version: '2.1.0', status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' }],
    });
    expect(vex.status, JSON.stringify(vex.body)).toBe(200);
    const rolled = await world.h.admin('POST', '/api/v1/admin/deployments/meter-all/rollouts', { version: '2.1.0', batchSize: 3 });
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(202);
    await waitFor(async () => (await world.status('meter-all')).rollout?.state === 'done', 60_000, 'the rollout to 2.1.0 done');
    expect(meterOn(agents[0]!)).toBe('2.1.0');
    expect(agents[0]!.changes.some((c) => c.deploymentId === 'meter-all' && c.error?.code === ADVISORY_REFUSED_CODE)).toBe(false);
  }, 240_000);
});
