import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorClient, type OperatorClient } from '../../cli/demo/operator-client.js';
import { startLocalDevice, startLocalFleet, type LocalFleet } from '../../cli/demo/stack.js';
import { waitUntil } from '../../cli/demo/wait.js';
import { createLogger } from '../../common/logger.js';
import { vendorSigningIdentity } from '../../orchestrator/routes/signing-routes.js';
import { pushComponent } from '../../oci/artifact.js';
import { RegistryClient } from '../../oci/client.js';
import type { RunningAgent } from '../../runtime/agent/agent.js';
import type { DeploymentChange } from '../../runtime/agent/reconciler.js';
import { serializeBundle, signComponentWithCertificate } from '../../trust/signing/sign.js';
import { requestTimestamp } from '../../trust/signing/timestamp-client.js';
import { fixture, variant } from './support.js';
import { suiteTempDir } from '../support/tmp.js';
import { literal } from '../supply-chain/support.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const TD = 'roots.test';

// The fleet signing CA and TSA are rotated on the control plane; a device onboarded before
// (which pinned the old roots) follows through the signingRootsDigest of its signed desired
// state, installs a component certificate-signed under the new CA and TSA, and still installs
// one signed under the old ones (the overlap).
describe('fleet signing roots rotation on a device', () => {
  const dir = suiteTempDir('agent-roots-rotation');
  let fleet: LocalFleet;
  let vendor: OperatorClient;
  let agent: RunningAgent | undefined;
  const changes: DeploymentChange[] = [];
  const lines: Record<string, any>[] = [];
  const logger = createLogger({ name: 'test', level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });

  /** The vendor's pipeline: a certificate from the CA issuing now, a signature, a TSA timestamp, a push, a catalog version. */
  async function publish(version: string, component: Uint8Array): Promise<{ chain: string[] }> {
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=acme ci', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } });
    const issued = await vendor.call<{ certificate: string; chain: string[] }>('POST', '/api/v1/signing/certificates', { csr: csr.toString('pem') });
    const privateKey = createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), format: 'der', type: 'pkcs8' });
    const bundle = signComponentWithCertificate(component, privateKey, issued.certificate);
    if (bundle.content.$case !== 'messageSignature') throw new Error('not a message signature');
    const stamp = await requestTimestamp(`${fleet.controlPlane.url}/api/v1/timestamp`, bundle.content.messageSignature.signature, { ca: fleet.ca.join('') });
    bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: stamp }] };
    await pushComponent(new RegistryClient(fleet.registry.host, { plainHttp: true }), 'acme/meter', version, component, [
      { kind: 'message-signature', bytes: serializeBundle(bundle) },
    ]);
    await vendor.call('POST', '/api/v1/catalog/apps/meter/versions', {
      version,
      component: { reference: `oci://${fleet.registry.host}/acme/meter:${version}` },
    });
    return { chain: issued.chain };
  }

  beforeAll(async () => {
    fleet = await startLocalFleet(dir, TD, logger);
    const { controlPlane, registry, admin, ca } = fleet;
    const identity = vendorSigningIdentity(TD, 'acme');
    await admin.call('POST', '/api/v1/catalog/vendors', {
      name: 'acme',
      trustPolicy: { identities: [{ subject: literal(identity), issuer: literal(controlPlane.url) }], repositories: [`${literal(registry.host)}/acme/.+`] },
    });
    const { token } = await admin.call<{ token: string }>('POST', '/api/v1/admin/tokens', { name: 'acme ci', role: 'vendor:acme' });
    vendor = operatorClient(controlPlane.url, ca, token);
    await vendor.call('POST', '/api/v1/catalog/apps', { id: 'meter' });
  }, 120_000);
  afterAll(async () => {
    await agent?.stop();
    await fleet?.close();
  });

  it('installs components signed under the new CA and TSA and under the old ones, without re-onboarding', async () => {
    const dataDir = join(dir, 'press-1');
    agent = await startLocalDevice(fleet, { id: 'press-1', labels: {}, dataDir }, logger);
    agent.events.on('change', (c) => changes.push(c));
    const pinnedFile = join(dataDir, 'identity', 'signing-roots.json');
    await waitUntil(30_000, 'press-1 to pin its roots', async () => existsSync(pinnedFile));
    const pinned = () => JSON.parse(readFileSync(pinnedFile, 'utf8')) as { signingCas: string[]; timestampAuthorities: string[][] };
    const before = pinned();
    expect(before.signingCas).toHaveLength(1);

    const old = await publish('1.0.0', variant(fixture('hello'), 'old-ca'));
    expect(old.chain).toEqual(before.signingCas);

    const rotated = await fleet.admin.call<{ signingCa: string; signingCas: number; timestampAuthorities: number; signingRootsDigest: string }>(
      'POST',
      '/api/v1/admin/signing/rotations',
      { signingCa: true, timestampAuthority: true },
    );
    expect(rotated).toMatchObject({ signingCas: 2, timestampAuthorities: 2 });
    const served = await fleet.admin.call<{ signingCas: string[]; timestampAuthorities: string[][] }>('GET', '/api/v1/signing/roots');
    expect(served.signingCas[1]).toBe(before.signingCas[0]);
    expect(served.timestampAuthorities[1]).toEqual(before.timestampAuthorities[0]);

    // Issued by the new CA and stamped by the new TSA, which the device has never seen.
    const fresh = await publish('2.0.0', variant(fixture('hello'), 'new-ca'));
    expect(fresh.chain).toEqual([served.signingCas[0]]);
    expect(fresh.chain).not.toEqual(before.signingCas);

    await fleet.admin.call('POST', '/api/v1/admin/deployments', {
      id: 'meter-new',
      app: 'meter',
      version: '2.0.0',
      grants: { log: {} },
      deviceIds: ['press-1'],
    });
    await waitUntil(60_000, 'the new-CA component installed', async () =>
      changes.some((c) => c.deploymentId === 'meter-new' && (c.state === 'installed' || c.state === 'failed')),
    );
    expect(changes.filter((c) => c.state === 'failed')).toEqual([]);
    expect(pinned()).toEqual(served);
    expect(lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('fleet signing roots rotation followed'))).toBe(true);

    await fleet.admin.call('POST', '/api/v1/admin/deployments', {
      id: 'meter-old',
      app: 'meter',
      version: '1.0.0',
      grants: { log: {} },
      deviceIds: ['press-1'],
    });
    await waitUntil(60_000, 'the old-CA component installed', async () =>
      changes.some((c) => c.deploymentId === 'meter-old' && (c.state === 'installed' || c.state === 'failed')),
    );
    expect(changes.filter((c) => c.state === 'failed')).toEqual([]);
    expect(
      agent.reconciler
        .apps()
        .map((a) => a.deploymentId)
        .sort(),
    ).toEqual(['meter-new', 'meter-old']);
    expect(lines.filter((l) => l.security === true && String(l.event).startsWith('agent.'))).toEqual([]);
  }, 180_000);
});
