import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { webcrypto } from 'node:crypto';
import { SignJWT } from 'jose';
import * as x509 from '@peculiar/x509';
import { RegistryClient } from '../../oci/client.js';
import { pullComponent, pushComponent, resolveTag } from '../../oci/artifact.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import '../support/registry-ca.js'; // installs the webcrypto provider for @peculiar/x509

/**
 * The distribution token flow against the real docker-registry: the registry answers 401 with a
 * Bearer challenge, the client fetches a JWT from the token service below (which the registry
 * trusts through its rootcertbundle) and retries with it.
 */
describe('docker-registry with token auth', () => {
  let registry: TestRegistry;
  let tokenServer: Server;
  const issued: Array<{ scope: string | null; user: string | null }> = [];

  beforeAll(async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=berth test token issuer',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      keys,
      signingAlgorithm: alg,
    });
    tokenServer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const auth = req.headers.authorization;
      const user = auth?.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString().split(':')[0]! : null;
      if (auth && Buffer.from(auth.slice(6), 'base64').toString() !== 'vendor:token-pw') return void res.writeHead(401).end();
      const scope = url.searchParams.get('scope');
      issued.push({ scope, user });
      const [type, name, actions] = (scope ?? '').split(':');
      // Anonymous callers may pull, only the vendor may push.
      const granted = (actions ?? '').split(',').filter((a) => a === 'pull' || (a === 'push' && user === 'vendor'));
      void new SignJWT({ access: type ? [{ type, name, actions: granted }] : [] })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [Buffer.from(root.rawData).toString('base64')] })
        .setIssuer('berth-test-issuer')
        .setAudience(url.searchParams.get('service') ?? '')
        .setSubject(user ?? '')
        .setIssuedAt()
        .setNotBefore(Math.floor(Date.now() / 1000) - 30)
        .setExpirationTime('5m')
        .setJti(String(issued.length))
        .sign(keys.privateKey as unknown as Parameters<SignJWT['sign']>[0])
        .then((token) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 })));
    });
    await new Promise<void>((r) => tokenServer.listen(0, '127.0.0.1', r));
    const a = tokenServer.address();
    const realm = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/token`;
    registry = await startRegistry({ tokenAuth: { realm, service: 'berth-test', issuer: 'berth-test-issuer', rootCertPem: root.toString('pem') } });
  });
  afterAll(async () => {
    await registry?.stop();
    tokenServer?.closeAllConnections();
    await new Promise((r) => tokenServer?.close(r));
  });

  it('pushes with vendor credentials and pulls anonymously through bearer tokens', async () => {
    const vendor = new RegistryClient(registry.host, { plainHttp: true, credentials: { username: 'vendor', password: 'token-pw' } });
    const component = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 2, 3]);
    const bundle = { kind: 'message-signature' as const, bytes: new TextEncoder().encode('{"sig":1}') };
    const pushed = await pushComponent(vendor, 'acme/tok', '1.0.0', component, [bundle]);
    // The registry names the actions in either order.
    const pullAndPush = (scope: string | null) => /^repository:acme\/tok:(pull,push|push,pull)$/.test(scope ?? '');
    expect(
      issued.some((i) => pullAndPush(i.scope) && i.user === 'vendor'),
      JSON.stringify(issued),
    ).toBe(true);

    const anonymous = new RegistryClient(registry.host, { plainHttp: true });
    expect(await resolveTag(anonymous, 'acme/tok', '1.0.0')).toBe(pushed.manifestDigest);
    const pulled = await pullComponent(anonymous, 'acme/tok', pushed.manifestDigest);
    expect(pulled.bundles).toHaveLength(1);
    expect(issued.some((i) => i.scope === 'repository:acme/tok:pull' && i.user === null)).toBe(true);
  });

  it('names a push the token does not allow', async () => {
    const anonymous = new RegistryClient(registry.host, { plainHttp: true });
    await expect(pushComponent(anonymous, 'acme/tok2', '1.0.0', new Uint8Array([1]), [])).rejects.toMatchObject({ code: 'oci.unauthorized' });
  });

  it('names refused token-service credentials', async () => {
    const wrong = new RegistryClient(registry.host, { plainHttp: true, credentials: { username: 'vendor', password: 'nope' } });
    await expect(resolveTag(wrong, 'acme/tok', '1.0.0')).rejects.toMatchObject({
      code: 'oci.unauthorized',
      message: expect.stringMatching(/token service refused the credentials/),
    });
  });
});
