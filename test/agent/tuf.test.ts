import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiCall } from '../../cli/api-subcommand.js';
import { initRepository, rotateOnlineKeys } from '../../cli/tuf/ceremony.js';
import type { RunningAgent } from '../../runtime/agent/agent.js';
import { fixture, startInProcessAgent, startWorld, variant, waitFor, type World } from './support.js';

/**
 * A device configured with the fleet's TUF root (docs/tuf.md) takes its desired-state keys, fleet
 * signing roots and CA bundle only from verified TUF targets, and follows the recovery drill: the online
 * keys replaced by a new root, then the desired-state key rotated; the device walks to the new
 * root and pins the new key because the targets signed by the new online keys list it.
 */
describe('an agent following the fleet TUF repository', () => {
  let world: World;
  let api: ApiCall;
  let offline: string;
  let rootSha256: string;
  const agents: RunningAgent[] = [];
  beforeAll(async () => {
    world = await startWorld();
    await world.publish('sensor', '1.0.0', variant(fixture('hello'), 'tuf'));
    api = async (method, path, body) => {
      const r = await world.h.admin(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    offline = mkdtempSync(join(tmpdir(), 'berth-tuf-offline-'));
    rootSha256 = (await initRepository(api, { keys: 3, threshold: 2, out: offline })).rootSha256;
  }, 120_000);
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await world?.stop();
  });

  it('pins root 1 by its fingerprint, trusts keys and signing roots from the targets, then survives the recovery drill', async () => {
    const started = await startInProcessAgent(world, 'tuf-1', {
      tuf: { rootSha256 },
      sync: { longPollSeconds: 2, pollIntervalSeconds: 0.1, backoffInitialSeconds: 0.2, backoffMaxSeconds: 1, trustCheckSeconds: 1 },
    });
    agents.push(started.agent);
    const { lines, changes, config } = started;
    await world.deploy({ id: 'sensor-tuf', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['tuf-1'] });
    await waitFor(() => changes.some((c) => c.deploymentId === 'sensor-tuf' && c.state === 'installed'), 60_000, 'installed');
    expect(lines.find((l) => l.msg === 'TUF root pinned')).toMatchObject({ sha256: rootSha256 });
    expect(lines.find((l) => l.msg === 'desired-state keys pinned')).toMatchObject({ source: 'tuf' });
    expect(lines.find((l) => l.msg === 'fleet signing roots pinned')).toMatchObject({ source: 'tuf' });
    // The CA bundle it verifies the control plane with came from the targets too.
    const sequence = (await world.h.admin('GET', '/api/v1/trust-bundle')).body.spiffe_sequence;
    await waitFor(() => lines.find((l) => l.msg === 'trust bundle refreshed'), 20_000, 'bundle from TUF');
    expect(lines.find((l) => l.msg === 'trust bundle refreshed')).toMatchObject({ source: 'tuf', sequence });
    const pinnedKids = () =>
      (JSON.parse(readFileSync(join(config.dataDir, 'identity', 'desired-state-keys.json'), 'utf8')) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const before = pinnedKids();

    // The drill: online keys stolen, so the operator names new ones with the offline keys.
    await rotateOnlineKeys(api, offline);
    // Then the desired-state key is rotated, and the repository lists the new key (signed with the new online keys).
    const rotated = await world.h.admin('POST', '/api/v1/admin/desired-state/key-rotations', {});
    expect(rotated.status).toBe(201);
    expect(await world.h.cp.deps.tuf!.keepCurrent()).toContain('targets');
    // Its sync rounds look at the repository (every second here): the new key is pinned before any state needs it.
    await waitFor(() => pinnedKids().includes(rotated.body.keyId), 20_000, 'the new key seen in the TUF targets');
    expect(lines.find((l) => l.msg === 'desired-state keys added from the TUF targets')).toMatchObject({ added: [rotated.body.keyId], source: 'tuf' });
    expect(JSON.parse(readFileSync(join(config.dataDir, 'tuf', 'root.json'), 'utf8')).signed.version).toBe(2);
    await world.deploy({ id: 'sensor-tuf-2', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['tuf-1'] });
    await waitFor(() => changes.some((c) => c.deploymentId === 'sensor-tuf-2' && c.state === 'installed'), 60_000, 'installed under the new key');
    expect(pinnedKids()).toContain(rotated.body.keyId);
    expect(pinnedKids()).not.toEqual(before);
    expect(JSON.parse(readFileSync(join(config.dataDir, 'tuf', 'root.json'), 'utf8')).signed.version).toBe(2);
    expect(lines.filter((l) => l.security === true)).toEqual([]);
  }, 150_000);

  it('a root that is not the configured one is never pinned: the device says so and trusts nothing from it', async () => {
    const started = await startInProcessAgent(world, 'tuf-2', { tuf: { rootSha256: 'ab'.repeat(32) } });
    agents.push(started.agent);
    const refused = await waitFor(() => started.lines.find((l) => l.event === 'agent.tuf_root_refused'), 30_000, 'root refused');
    expect(refused).toMatchObject({ security: true, code: 'tuf.root_fingerprint' });
    expect(started.lines.some((l) => l.msg === 'desired-state keys pinned')).toBe(false);
  }, 60_000);
});
