import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorClient, type OperatorClient } from '../../cli/demo/operator-client.js';
import { localAgentConfig, startLocalDevice, startLocalFleet, type LocalFleet } from '../../cli/demo/stack.js';
import { waitUntil } from '../../cli/demo/wait.js';
import { silentLogger } from '../../common/logger.js';
import { vendorSigningIdentity } from '../../orchestrator/routes/signing-routes.js';
import { pushComponent } from '../../oci/artifact.js';
import { RegistryClient } from '../../oci/client.js';
import { startAgent, type RunningAgent } from '../../runtime/agent/agent.js';
import type { DeploymentChange } from '../../runtime/agent/reconciler.js';
import { loadOrCreateFleetSigning } from '../../trust/signing/fleet-signing.js';
import { serializeBundle, signComponentWithCertificate } from '../../trust/signing/sign.js';
import { requestTimestamp } from '../../trust/signing/timestamp-client.js';
import { fixture } from './support.js';
import { suiteTempDir } from '../support/tmp.js';
import { literal } from '../supply-chain/support.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const TD = 'cert.test';

// The air-gapped signing path all the way to a device: a vendor signs with a 10-minute
// certificate from the fleet signing CA and a timestamp from the control plane's TSA; the
// agent verifies it against the fleet signing roots it pinned at onboarding. A device holding
// another fleet's roots refuses the same component.
describe('a certificate-signed component on a device', () => {
  const dir = suiteTempDir('agent-cert-signed');
  let fleet: LocalFleet;
  let vendor: OperatorClient;
  const agents: RunningAgent[] = [];
  const changes: DeploymentChange[] = [];

  beforeAll(async () => {
    fleet = await startLocalFleet(dir, TD, silentLogger);
    const { controlPlane, registry, admin, ca } = fleet;
    const identity = vendorSigningIdentity(TD, 'acme');
    await admin.call('POST', '/api/v1/catalog/vendors', { name: 'acme', trustPolicy: { identities: [{ subject: literal(identity), issuer: literal(controlPlane.url) }], repositories: [`${literal(registry.host)}/acme/.+`] } });
    const { token } = await admin.call<{ token: string }>('POST', '/api/v1/admin/tokens', { name: 'acme ci', role: 'vendor:acme' });
    vendor = operatorClient(controlPlane.url, ca, token);

    // The vendor's release pipeline: a fresh key, a certificate for it, a signature, a timestamp.
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=acme ci', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } });
    const issued = await vendor.call<{ certificate: string }>('POST', '/api/v1/signing/certificates', { csr: csr.toString('pem') });
    const privateKey = createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), format: 'der', type: 'pkcs8' });
    const component = fixture('hello');
    const bundle = signComponentWithCertificate(component, privateKey, issued.certificate);
    if (bundle.content.$case !== 'messageSignature') throw new Error('not a message signature');
    const stamp = await requestTimestamp(`${controlPlane.url}/api/v1/timestamp`, bundle.content.messageSignature.signature, { ca: ca.join('') });
    bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: stamp }] };
    await pushComponent(new RegistryClient(registry.host, { plainHttp: true }), 'acme/meter', '1.0.0', component, [{ kind: 'message-signature', bytes: serializeBundle(bundle) }]);
    await vendor.call('POST', '/api/v1/catalog/apps', { id: 'meter' });
    await vendor.call('POST', '/api/v1/catalog/apps/meter/versions', { version: '1.0.0', component: { reference: `oci://${registry.host}/acme/meter:1.0.0` } });
  }, 120_000);
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await fleet?.close();
  });

  async function device(id: string, beforeStart?: (dataDir: string) => Promise<void>): Promise<RunningAgent> {
    const dataDir = join(dir, id);
    let agent = await startLocalDevice(fleet, { id, labels: {}, dataDir }, silentLogger);
    await waitUntil(30_000, `${id} to pin its roots`, async () => existsSync(join(dataDir, 'identity', 'signing-roots.json')));
    if (beforeStart) {
      await agent.stop();
      await beforeStart(dataDir);
      agent = await startAgent(localAgentConfig(fleet, { id, labels: {}, dataDir }), { logger: silentLogger });
    }
    agent.events.on('change', (c) => changes.push(c));
    agents.push(agent);
    return agent;
  }

  it('is verified against the pinned fleet signing roots and runs', async () => {
    await device('press-1');
    await fleet.admin.call('POST', '/api/v1/admin/deployments', { id: 'meter-1', app: 'meter', version: '1.0.0', grants: { log: {} }, deviceIds: ['press-1'] });
    await waitUntil(60_000, 'meter installed on press-1', async () => changes.some((c) => c.deploymentId === 'meter-1' && c.state === 'installed'));
    expect(changes.filter((c) => c.deploymentId === 'meter-1' && c.state === 'failed')).toEqual([]);
  });

  it("is refused by a device that holds another fleet's signing roots, which reports failed with the reason", async () => {
    const other = await loadOrCreateFleetSigning(join(dir, 'other-fleet'));
    await device('press-2', async (dataDir) => writeFileSync(join(dataDir, 'identity', 'signing-roots.json'), JSON.stringify(other.roots)));
    await fleet.admin.call('POST', '/api/v1/admin/deployments', { id: 'meter-2', app: 'meter', version: '1.0.0', grants: { log: {} }, deviceIds: ['press-2'] });
    await waitUntil(60_000, 'meter failed on press-2', async () => changes.some((c) => c.deploymentId === 'meter-2' && c.state === 'failed'));
    const failed = changes.find((c) => c.deploymentId === 'meter-2' && c.state === 'failed')!;
    expect(failed.error?.message).toMatch(/refused/);
    expect(changes.some((c) => c.deploymentId === 'meter-2' && c.state === 'installed')).toBe(false);
    // The operator sees why, once the queued report is delivered.
    await waitUntil(30_000, 'the failed report to reach the control plane', async () => (await fleet.admin.call('GET', '/api/v1/admin/deployments/meter-2/status')).counts.failed === 1);
    const status = await fleet.admin.call('GET', '/api/v1/admin/deployments/meter-2/status');
    expect(status.errors).toEqual([expect.objectContaining({ deviceId: 'press-2', error: expect.objectContaining({ message: expect.stringMatching(/refused/) }) })]);
  });
});
