import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlaneClient } from '../../runtime/agent/control-plane-client.js';
import { controlPlaneIdentityCheck } from '../../runtime/agent/control-plane-identity.js';
import { MirrorSource } from '../../oci/mirror-source.js';
import { parseReference } from '../../oci/reference.js';
import { httpsJson } from '../../runtime/agent/https.js';
import type { DeviceIdentity } from '../../runtime/agent/identity-files.js';
import { createIntermediateCa, createRootCa, issueDeviceCertificate, issueServerCertificate, type KeyedCertificate } from '../../trust/authority.js';
import { generateP256, privateKeyToPem, x509 } from '../../trust/x509.js';
import { makeCert } from '../support/bad-chains.js';

/**
 * Issue #12 defect 9: the agent checked the control plane by host name only. Every certificate
 * below is from the fleet CA the device trusts and valid for the host name; only the control
 * plane's carries spiffe://fleet.test/control-plane.
 */
const TD = 'fleet.test';
let root: KeyedCertificate;
let issuing: KeyedCertificate;
let device: DeviceIdentity;
const servers: Server[] = [];

async function serve(cert: KeyedCertificate): Promise<string> {
  const server = createServer(
    {
      key: await privateKeyToPem(cert.keys.privateKey),
      cert: [cert.certificate, issuing.certificate].map((c) => c.toString('pem')).join('\n'),
      minVersion: 'TLSv1.3',
    },
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    },
  );
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

beforeAll(async () => {
  root = await createRootCa(TD);
  issuing = await createIntermediateCa(root, TD);
  const keys = await generateP256();
  const cert = await issueDeviceCertificate(issuing, TD, 'dev-1', keys.publicKey, { lifetimeMs: 3_600_000 });
  device = {
    deviceId: 'dev-1',
    keyPem: await privateKeyToPem(keys.privateKey),
    certificatePem: [cert, issuing.certificate].map((c) => c.toString('pem')).join('\n'),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
});
afterAll(() => {
  for (const s of servers) s.close();
});

describe('the agent verifies the control plane by its SPIFFE ID, not only its host name', () => {
  it('accepts the control plane and refuses other fleet-CA certificates for the same host', async () => {
    const ca = root.certificate.toString('pem');
    const genuine = await serve(await issueServerCertificate(issuing, TD, ['127.0.0.1'], { lifetimeMs: 3_600_000 }));
    const noSpiffeId = await serve(
      await makeCert(issuing, {
        subject: 'CN=127.0.0.1',
        keyUsage: x509.KeyUsageFlags.digitalSignature,
        eku: [x509.ExtendedKeyUsage.serverAuth],
        sans: [{ type: 'ip', value: '127.0.0.1' }],
      }),
    );
    const otherDomain = await serve(await issueServerCertificate(issuing, 'other.test', ['127.0.0.1'], { lifetimeMs: 3_600_000 }));
    const deviceAsServer = await serve(
      await makeCert(issuing, {
        subject: 'CN=dev-2',
        keyUsage: x509.KeyUsageFlags.digitalSignature,
        eku: [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth],
        sans: [
          { type: 'url', value: `spiffe://${TD}/device/dev-2` },
          { type: 'ip', value: '127.0.0.1' },
        ],
      }),
    );

    // Onboarding, renewal, the trust bundle: httpsJson.
    expect((await httpsJson(genuine, { ca, trustDomain: TD }, 'GET')).status).toBe(200);
    expect((await httpsJson(genuine, { ca }, 'GET')).status).toBe(200);
    await expect(httpsJson(noSpiffeId, { ca }, 'GET')).rejects.toMatchObject({
      code: 'agent.not_the_control_plane',
      message: expect.stringContaining('no SPIFFE ID'),
    });
    await expect(httpsJson(otherDomain, { ca, trustDomain: TD }, 'GET')).rejects.toMatchObject({
      code: 'agent.not_the_control_plane',
      message: expect.stringContaining('spiffe://other.test/control-plane'),
    });
    await expect(httpsJson(deviceAsServer, { ca, trustDomain: TD }, 'GET')).rejects.toMatchObject({
      code: 'agent.not_the_control_plane',
      message: expect.stringContaining(`spiffe://${TD}/device/dev-2`),
    });
    // OpenSSL accepts a server certificate that states no purpose; Berth's path validation does not.
    const vague = await serve(
      await makeCert(issuing, {
        subject: 'CN=127.0.0.1',
        sans: [
          { type: 'url', value: `spiffe://${TD}/control-plane` },
          { type: 'ip', value: '127.0.0.1' },
        ],
      }),
    );
    await expect(httpsJson(vague, { ca, trustDomain: TD }, 'GET')).rejects.toMatchObject({
      code: 'agent.not_the_control_plane',
      details: { reason: 'chain.key_usage' },
    });
    // Before onboarding the trust domain is not known yet; a device certificate is still no control plane.
    await expect(httpsJson(deviceAsServer, { ca }, 'GET')).rejects.toMatchObject({ code: 'agent.not_the_control_plane' });

    // Everything after onboarding: the mutual-TLS client, its trust domain from the device certificate.
    const client = (url: string) => new ControlPlaneClient(url, () => ({ identity: device, ca }));
    try {
      expect((await client(genuine).request('/')).status).toBe(200);
      await expect(client(noSpiffeId).request('/')).rejects.toMatchObject({ code: 'agent.not_the_control_plane' });
      await expect(client(otherDomain).request('/')).rejects.toMatchObject({ code: 'agent.not_the_control_plane' });
      await expect(client(deviceAsServer).request('/')).rejects.toMatchObject({ code: 'agent.not_the_control_plane' });
    } finally {
      // Kept-alive connections of the accepted request.
      for (const s of servers) s.closeAllConnections();
    }
  });

  it('checks the artifact mirror (the control plane too) by its SPIFFE ID, as the agent sets it up', async () => {
    const ca = root.certificate.toString('pem');
    const genuine = await serve(await issueServerCertificate(issuing, TD, ['127.0.0.1'], { lifetimeMs: 3_600_000 }));
    const noSpiffeId = await serve(
      await makeCert(issuing, {
        subject: 'CN=127.0.0.1',
        keyUsage: x509.KeyUsageFlags.digitalSignature,
        eku: [x509.ExtendedKeyUsage.serverAuth],
        sans: [{ type: 'ip', value: '127.0.0.1' }],
      }),
    );
    const mirror = (url: string) =>
      new MirrorSource({
        url: new URL(url).origin,
        tls: () => ({ ca, key: device.keyPem, cert: device.certificatePem, checkServerIdentity: controlPlaneIdentityCheck(TD, ca) }),
        client: { attempts: 1 },
      });
    const ref = { ...parseReference('oci://registry.test/acme/app:1.0.0'), digest: `sha256:${'0'.repeat(64)}` as const };
    try {
      // The genuine control plane answers (not with a manifest: this stand-in answers {"ok":true}), so whatever fails is not who it is.
      const answered = await mirror(genuine)
        .fetch(ref)
        .then(
          () => undefined,
          (err: Error) => err,
        );
      expect(String(answered?.message)).not.toContain('not the control plane');
      await expect(mirror(noSpiffeId).fetch(ref)).rejects.toThrow(/not the control plane/);
    } finally {
      for (const s of servers) s.closeAllConnections();
    }
  });
});
