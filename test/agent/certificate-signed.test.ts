import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
// another fleet's roots follows the roots its signed desired state names.
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
    await admin.call('POST', '/api/v1/catalog/vendors', {
      name: 'acme',
      trustPolicy: { identities: [{ subject: literal(identity), issuer: literal(controlPlane.url) }], repositories: [`${literal(registry.host)}/acme/.+`] },
    });
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
    await pushComponent(new RegistryClient(registry.host, { plainHttp: true }), 'acme/meter', '1.0.0', component, [
      { kind: 'message-signature', bytes: serializeBundle(bundle) },
    ]);
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

  // Pinned roots are not trusted blindly in the other direction either: the signed desired state
  // names the fleet's roots (signingRootsDigest), so a device holding others fetches the served
  // roots, checks them against that digest, pins them and runs the component. (A served document
  // that does not match the signed digest is refused: test/agent/signing-roots-follow.test.ts.)
  it("replaces another fleet's signing roots with the ones its signed desired state vouches for", async () => {
    const other = await loadOrCreateFleetSigning(join(dir, 'other-fleet'));
    let dataDir = '';
    await device('press-2', async (d) => {
      dataDir = d;
      writeFileSync(join(d, 'identity', 'signing-roots.json'), JSON.stringify(other.roots));
    });
    await fleet.admin.call('POST', '/api/v1/admin/deployments', { id: 'meter-2', app: 'meter', version: '1.0.0', grants: { log: {} }, deviceIds: ['press-2'] });
    await waitUntil(60_000, 'meter installed on press-2', async () => changes.some((c) => c.deploymentId === 'meter-2' && c.state === 'installed'));
    expect(changes.filter((c) => c.deploymentId === 'meter-2' && c.state === 'failed')).toEqual([]);
    const served = await fleet.admin.call('GET', '/api/v1/signing/roots');
    expect(JSON.parse(readFileSync(join(dataDir, 'identity', 'signing-roots.json'), 'utf8'))).toEqual(served);
  });
});
