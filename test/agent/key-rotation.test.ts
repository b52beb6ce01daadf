import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { startAgent, type RunningAgent } from '../../runtime/agent/agent.js';
import { parseAgentConfig } from '../../runtime/agent/config.js';
import type { DeploymentChange } from '../../runtime/agent/reconciler.js';
import { fixture, startWorld, variant, waitFor, type World } from './support.js';

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
    const machineIdFile = join(world.dir, 'machine-id-rot');
    writeFileSync(machineIdFile, randomBytes(16).toString('hex'));
    const caFile = join(world.dir, 'ca-rot.pem');
    writeFileSync(caFile, world.h.ca.join('\n'));
    const dataDir = join(world.dir, 'rot-device');
    const config = parseAgentConfig({
      controlPlane: { url: world.h.cp.url, ca: caFile },
      dataDir,
      onboarding: { credential: { kind: 'token', token: await world.h.enrollmentToken({ deviceId: 'rot-1' }) }, deviceId: 'rot-1' },
      artifacts: { source: 'mirror' },
      gateway: { port: 0 },
      sync: { longPollSeconds: 2, pollIntervalSeconds: 0.1, backoffInitialSeconds: 0.2, backoffMaxSeconds: 1 },
      nodeLock: { machineIdFile },
    });
    const lines: Record<string, any>[] = [];
    agent = await startAgent(config, { logger: createLogger({ name: 'rot', level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) }) });
    const changes: DeploymentChange[] = [];
    agent.events.on('change', (c) => changes.push(c));
    const pinned = () => (JSON.parse(readFileSync(join(dataDir, 'identity', 'desired-state-keys.json'), 'utf8')) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
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
