import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../runtime/agent/agent.js';
import { loadIdentity } from '../../runtime/agent/identity-files.js';
import { workloadIdentityHandlers } from '../../runtime/identity/token-handlers.js';
import type { AppSpec } from '../../runtime/sandbox/sandbox.js';
import { verifyWorkloadToken } from '../../trust/workload/verify.js';
import { fingerprintOf, parseCertificates } from '../../trust/x509.js';
import { startInProcessAgent, startWorld, waitFor, type World } from './support.js';

const spec = {
  identity: { vendor: 'acme', app: 'sensor', instance: 'acme-sensor-1' },
  grants: { identity: { audiences: ['historian'] } },
} as unknown as AppSpec;

/**
 * Issue #12 defect 10: after a renewal the agent went on signing workload tokens with the old
 * key for a while (the new signer was made in an unawaited promise). Now the device's trust
 * state switches identity, key and signer together before the renewal counts as done.
 */
describe('workload tokens across a certificate renewal', () => {
  let world: World;
  let agent: RunningAgent | undefined;
  beforeAll(async () => {
    world = await startWorld({ certificateLifetimeMs: 30_000 });
  });
  afterAll(async () => {
    await agent?.stop();
    await world?.stop();
  });

  it('signs the very next token after a renewal with the new key, carrying the new certificate', async () => {
    // Certificates live 30 s from issue (the backdating is not lifetime): at 0.25, renewal is due ~7.5 s in.
    const started = await startInProcessAgent(world, 'switch-1', {
      sync: { longPollSeconds: 2, pollIntervalSeconds: 0.1, backoffInitialSeconds: 0.2, backoffMaxSeconds: 1, renewalFraction: 0.25 },
    });
    agent = started.agent;
    const running = agent;
    const first = (await loadIdentity(join(started.config.dataDir, 'identity')))!;
    // The agent's own token handler reads the signer this way (agent.ts startApps).
    const getToken = workloadIdentityHandlers(() => running.trust.current().signer)(spec)['identity.getToken'] as (audience: string) => Promise<string>;
    const before = await getToken('historian');
    expect(decodeProtectedHeader(before).x5c?.[0]).toBe(Buffer.from(parseCertificates(first.certificatePem)[0]!.rawData).toString('base64'));

    // Asked in the same turn as the renewal completes: no window for the old key.
    const next = new Promise<string>((resolve) => running.events.once('renewed', () => resolve(getToken('historian'))));
    const token = await waitFor(() => Promise.race([next, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]), 40_000, 'a renewal');
    const renewed = (await loadIdentity(join(started.config.dataDir, 'identity')))!;
    expect(renewed.certificatePem).not.toBe(first.certificatePem);
    const renewedLeaf = parseCertificates(renewed.certificatePem)[0]!;
    expect(decodeProtectedHeader(token).x5c?.[0]).toBe(Buffer.from(renewedLeaf.rawData).toString('base64'));
    // Signed by the new key: the token verifies against the certificate it carries, which is the new one.
    const roots = parseCertificates(world.h.ca.join('\n')).filter((c) => c.subject === c.issuer);
    const verified = await verifyWorkloadToken(token, { roots, trustDomain: 'fleet.test', audience: 'historian' });
    expect(verified.certificateFingerprint).toBe(fingerprintOf(renewedLeaf));
    // And every reader sees the same identity: the one the client and the signer use agree.
    expect(running.trust.current().identity.certificatePem).toBe(renewed.certificatePem);
    expect(fingerprintOf(running.trust.current().signer.chain[0]!)).toBe(fingerprintOf(renewedLeaf));
  });
});
