import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import type { RunningAgent } from '../../runtime/agent/agent.js';
import { parseAgentConfig, type AgentConfigInput } from '../../runtime/agent/config.js';
import { loadIdentity } from '../../runtime/agent/identity-files.js';
import { identityDir, onboard } from '../../runtime/agent/onboarding.js';
import { manufacturer } from '../support/manufacturer.js';
import { startInProcessAgent, startWorld, waitFor, type World } from './support.js';

// A device offline past its certificate's lifetime: the factory identity re-enrolls it; a device
// onboarded by token is told plainly that it needs a new one.
const LIFETIME_MS = 4000;
// Renewal counts from issue: at this fraction, it falls due just before expiry.
const sync = { longPollSeconds: 2, pollIntervalSeconds: 0.1, backoffInitialSeconds: 0.2, backoffMaxSeconds: 1, renewalFraction: 0.999 };

describe('an agent whose certificate expired while it was not running', () => {
  let world: World;
  const agents: RunningAgent[] = [];
  beforeAll(async () => {
    world = await startWorld({ certificateLifetimeMs: LIFETIME_MS });
  });
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await world?.stop();
  });

  /** Onboards with `onboarding` (as the agent would), then waits until that certificate has expired. */
  async function expiredDevice(name: string, onboarding: AgentConfigInput['onboarding']): Promise<AgentConfigInput> {
    const machineIdFile = join(world.dir, `machine-id-expired-${name}`);
    writeFileSync(machineIdFile, `${name}-machine\n`);
    const caFile = join(world.dir, `ca-${name}.pem`);
    writeFileSync(caFile, world.h.ca.join('\n'));
    const input: AgentConfigInput = {
      controlPlane: { url: world.h.cp.url, ca: caFile },
      dataDir: join(world.dir, `in-process-${name}`),
      onboarding,
      nodeLock: { machineIdFile },
      sync,
    };
    const first = await onboard(parseAgentConfig(input), world.h.ca.join('\n'), silentLogger);
    await waitFor(() => Date.now() > first.notAfter.getTime() + 500, LIFETIME_MS + 5000, 'the certificate to expire');
    return input;
  }

  it('re-enrolls with its factory certificate: same device id, a new certificate, and it follows its desired state again', async () => {
    const acme = await manufacturer('acme');
    expect((await world.h.admin('POST', '/api/v1/admin/manufacturers', { name: 'acme', certificate: acme.ca.toString('pem') })).status).toBe(201);
    const idevid = await acme.idevid('SN-REENROLL-1');
    const certificates = join(world.dir, 'idevid.pem');
    const key = join(world.dir, 'idevid.key');
    writeFileSync(certificates, idevid.certificatesPem.join('\n'));
    writeFileSync(key, idevid.keyPem);
    const input = await expiredDevice('factory', { credential: { kind: 'factory-certificate', certificates, key } });
    const before = (await loadIdentity(identityDir(input.dataDir)))!;
    const started = await startInProcessAgent(world, 'factory', input);
    agents.push(started.agent);
    await waitFor(() => started.lines.some((l) => l.msg === 'device re-enrolled after its certificate expired'), 20_000, 're-enrolled');
    const after = (await loadIdentity(identityDir(input.dataDir)))!;
    expect(after.deviceId).toBe(before.deviceId);
    expect(after.certificatePem).not.toBe(before.certificatePem);
    await waitFor(() => started.agent.adoptedVersion() >= 1, 20_000, 'desired state adopted with the new certificate');
    expect(started.lines.filter((l) => l.security === true)).toEqual([]);
  });

  it('onboarded by token: keeps running and says why it cannot renew', async () => {
    const token = await world.h.enrollmentToken({ deviceId: 'token-expired-1' });
    const input = await expiredDevice('token', { credential: { kind: 'token', token }, deviceId: 'token-expired-1' });
    const started = await startInProcessAgent(world, 'token', input);
    agents.push(started.agent);
    const refused = await waitFor(() => started.lines.find((l) => l.msg === 'device certificate renewal failed'), 20_000, 'renewal refused');
    expect(JSON.stringify(refused)).toContain('agent.certificate_expired');
    expect(JSON.stringify(refused)).toContain('new enrollment token');
    expect(started.agent.deviceId).toBe('token-expired-1');
  });
});
