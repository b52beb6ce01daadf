import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../runtime/agent/agent.js';
import { fixture, startInProcessAgent, startWorld, variant, waitFor, type World } from './support.js';

// The control plane rotates its desired-state key; a running device follows without re-onboarding.
describe('desired-state key rotation', () => {
  let world: World;
  let agent: RunningAgent | undefined;
  beforeAll(async () => {
    world = await startWorld();
    await world.publish('sensor', '1.0.0', variant(fixture('hello'), 'rotation'));
  });
  afterAll(async () => {
    await agent?.stop();
    await world?.stop();
  });

  it('adopts state signed by the new key, pinning it because the old key endorsed it', async () => {
    const started = await startInProcessAgent(world, 'rot-1');
    agent = started.agent;
    const { lines, changes } = started;
    const dataDir = started.config.dataDir;
    const pinned = () =>
      (JSON.parse(readFileSync(join(dataDir, 'identity', 'desired-state-keys.json'), 'utf8')) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    await waitFor(() => agent!.adoptedVersion() >= 1, 20_000, 'first state adopted');
    const first = pinned();
    expect(first).toHaveLength(1);

    const rotated = await world.h.admin('POST', '/api/v1/admin/desired-state/key-rotations', {});
    expect(rotated.status).toBe(201);
    expect(rotated.body.previous).toEqual(first);
    await world.deploy({ id: 'sensor-rot', app: 'sensor', version: '1.0.0', grants: { log: {} }, deviceIds: ['rot-1'] });
    await waitFor(() => changes.some((c) => c.deploymentId === 'sensor-rot' && c.state === 'installed'), 30_000, 'installed under the new key');
    expect(pinned()).toEqual([...first, rotated.body.keyId]);
    expect(lines.some((l) => l.msg?.startsWith('desired-state key rotation followed'))).toBe(true);
    expect(lines.filter((l) => l.security === true)).toEqual([]);
  });
});
