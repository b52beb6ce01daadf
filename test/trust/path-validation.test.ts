import 'reflect-metadata';
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { BerthError } from '../../common/errors.js';
import { ClientChainValidator } from '../../orchestrator/http/client-chain.js';
import { issueServerCertificate, type KeyedCertificate } from '../../trust/authority.js';
import { validatePath } from '../../trust/path/validate.js';
import { issueCrl } from '../../trust/revocation/crl.js';
import { RevocationList } from '../../trust/revocation/list.js';
import { checkSigningCertificatePath } from '../../trust/signing/certificate-path.js';
import { compileRoots } from '../../trust/signing/roots.js';
import { createTimestampAuthority } from '../../trust/signing/timestamp-authority.js';
import { issueWorkloadToken } from '../../trust/workload/token.js';
import { verifyWorkloadToken } from '../../trust/workload/verify.js';
import { privateKeyToPem, x509 } from '../../trust/x509.js';
import { CA_USAGE, badChains, badFleet, makeCert, type BadChain, type BadFleet } from '../support/bad-chains.js';

const TD = 'fleet.test';
const E = x509.ExtendedKeyUsage;
const F = x509.KeyUsageFlags;
const deviceSan = (id: string): x509.JsonGeneralName => ({ type: 'url', value: `spiffe://${TD}/device/${id}` });

let fleet: BadFleet;
beforeAll(async () => {
  fleet = await badFleet(TD);
});

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!(err instanceof BerthError)) throw err;
    return String(err.details?.reason ?? err.code);
  }
}

describe('purpose-aware certification path validation (trust/path/validate.ts)', () => {
  it('accepts the certificates Berth issues, each for its own purpose only', async () => {
    const at = new Date();
    const anchors = [fleet.root.certificate];
    const intermediates = [fleet.issuing.certificate];
    expect(validatePath({ leaf: fleet.device.certificate, intermediates, anchors, purpose: 'device-tls-client', at }).path).toHaveLength(3);
    expect(validatePath({ leaf: fleet.device.certificate, intermediates, anchors, purpose: 'workload-token', at }).anchor).toBe(fleet.root.certificate);
    const server = await issueServerCertificate(fleet.issuing, TD, ['localhost'], { lifetimeMs: 3_600_000 });
    expect(validatePath({ leaf: server.certificate, intermediates, anchors, purpose: 'tls-server', at }).path).toHaveLength(3);
    // The wrong way round: a server certificate is no device identity, a device certificate no server.
    expect(reasonOf(() => validatePath({ leaf: server.certificate, intermediates, anchors, purpose: 'device-tls-client', at }))).toBe('chain.wrong_purpose');
    expect(reasonOf(() => validatePath({ leaf: fleet.device.certificate, intermediates, anchors, purpose: 'tls-server', at }))).toBe('chain.wrong_purpose');
    expect(reasonOf(() => validatePath({ leaf: fleet.device.certificate, intermediates, anchors, purpose: 'code-signing', at }))).toBe('chain.wrong_purpose');
    // The issuing CA signs CRLs; a device certificate does not.
    expect(validatePath({ leaf: fleet.issuing.certificate, anchors, purpose: 'crl-signing', at }).path).toHaveLength(2);
    expect(reasonOf(() => validatePath({ leaf: fleet.device.certificate, intermediates, anchors, purpose: 'crl-signing', at }))).toBe('chain.not_a_ca');
  });

  it('refuses each wrong chain with its own reason, for every purpose whose end certificate Berth checks', async () => {
    const cases: Array<[Parameters<typeof validatePath>[0]['purpose'], string, string]> = [
      ['device-tls-client', E.clientAuth, E.codeSigning],
      ['workload-token', E.clientAuth, E.codeSigning],
      ['tls-server', E.serverAuth, E.clientAuth],
      ['code-signing', E.codeSigning, E.clientAuth],
    ];
    for (const [purpose, eku, wrong] of cases) {
      for (const bad of await badChains(fleet, eku, wrong, deviceSan('intruder'))) {
        const reason = reasonOf(() =>
          validatePath({ leaf: bad.leaf.certificate, intermediates: bad.intermediates, anchors: [fleet.root.certificate], purpose, at: new Date() }),
        );
        expect(reason, `${purpose}: ${bad.name}`).toBe(bad.reason);
      }
    }
  });

  it('refuses a path longer than the maximum, an expired link, an unknown critical extension, and a stranger', async () => {
    const at = new Date();
    const anchors = [fleet.root.certificate];
    expect(
      reasonOf(() =>
        validatePath({ leaf: fleet.device.certificate, intermediates: [fleet.issuing.certificate], anchors, purpose: 'device-tls-client', at, maxLength: 2 }),
      ),
    ).toBe('chain.too_long');
    expect(
      reasonOf(() =>
        validatePath({
          leaf: fleet.device.certificate,
          intermediates: [fleet.issuing.certificate],
          anchors,
          purpose: 'device-tls-client',
          at: new Date(Date.now() + 3 * 86_400_000),
        }),
      ),
    ).toBe('chain.expired');
    const stranger = await makeCert('self', { subject: 'CN=stranger', ca: true, keyUsage: CA_USAGE });
    expect(
      reasonOf(() =>
        validatePath({
          leaf: fleet.device.certificate,
          intermediates: [fleet.issuing.certificate],
          anchors: [stranger.certificate],
          purpose: 'device-tls-client',
          at,
        }),
      ),
    ).toBe('chain.untrusted');
    const leaf = await makeCert(fleet.issuing, { subject: 'CN=odd', keyUsage: F.digitalSignature, eku: [E.clientAuth], sans: [deviceSan('odd')] });
    const odd = await x509.X509CertificateGenerator.create({
      serialNumber: '01',
      subject: 'CN=odd',
      issuer: fleet.issuing.certificate.subjectName,
      notBefore: leaf.certificate.notBefore,
      notAfter: leaf.certificate.notAfter,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      publicKey: leaf.keys.publicKey,
      signingKey: fleet.issuing.keys.privateKey,
      extensions: [...leaf.certificate.extensions, new x509.Extension('1.2.3.4.5', true, new Uint8Array([5, 0]))],
    });
    expect(reasonOf(() => validatePath({ leaf: odd, intermediates: [fleet.issuing.certificate], anchors, purpose: 'device-tls-client', at }))).toBe(
      'chain.unknown_critical_extension',
    );
  });

  it('holds a CA to the SPIFFE trust domains its name constraints permit, and lets names inside them through', async () => {
    const inside = await makeCert(fleet.constrained, {
      subject: 'CN=inside',
      keyUsage: F.digitalSignature,
      eku: [E.clientAuth],
      sans: [{ type: 'url', value: 'spiffe://other.test/device/a' }],
    });
    expect(
      validatePath({
        leaf: inside.certificate,
        intermediates: [fleet.constrained.certificate],
        anchors: [fleet.root.certificate],
        purpose: 'device-tls-client',
        at: new Date(),
      }).path,
    ).toHaveLength(3);
  });
});

describe('every place Berth accepts a certificate refuses the wrong chains', () => {
  it('workload tokens: token.untrusted_chain with the reason', async () => {
    const verify = (token: string) => verifyWorkloadToken(token, { roots: [fleet.root.certificate], trustDomain: TD, audience: 'historian' });
    const request = { vendor: 'acme', app: 'sensor', instance: 'i-1', audience: 'historian' };
    const signerOf = (bad: Pick<BadChain, 'leaf' | 'intermediates'>) => ({
      trustDomain: TD,
      deviceId: 'intruder',
      privateKey: bad.leaf.keys.privateKey,
      chain: [bad.leaf.certificate, ...bad.intermediates],
    });
    for (const bad of await badChains(fleet, E.clientAuth, E.codeSigning, deviceSan('intruder'))) {
      const err = await verify(await issueWorkloadToken(signerOf(bad), request)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, bad.name).toMatchObject({ code: 'token.untrusted_chain', details: { reason: bad.reason } });
    }
    // The device's own certificate still signs tokens.
    const good = await makeCert(fleet.issuing, { subject: 'CN=good', keyUsage: F.digitalSignature, eku: [E.clientAuth], sans: [deviceSan('intruder')] });
    await expect(verify(await issueWorkloadToken(signerOf({ leaf: good, intermediates: [fleet.issuing.certificate] }), request))).resolves.toMatchObject({
      deviceId: 'intruder',
    });
  });

  it('revocation lists: a CRL signer that is no CA, or whose path breaks a CA constraint, is revocations.untrusted', async () => {
    const load = async (signer: KeyedCertificate, chain: x509.X509Certificate[]) => {
      const crl = await issueCrl(signer, [], { number: 1, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 3_600_000) });
      const pem = [signer.certificate, ...chain].map((c) => c.toString('pem')).join('\n') + '\n' + x509.PemConverter.encode(crl.rawData, 'X509 CRL') + '\n';
      return RevocationList.load(pem, { roots: [fleet.root.certificate] }).then(
        () => 'accepted',
        (e: BerthError) => `${e.code}/${String(e.details?.reason)}`,
      );
    };
    const crlCa = (issuer: KeyedCertificate) => makeCert(issuer, { subject: `CN=CRL CA under ${issuer.certificate.subject}`, ca: true, keyUsage: CA_USAGE });
    expect(await load(fleet.issuing, [])).toBe('accepted');
    expect(await load(fleet.device, [fleet.issuing.certificate])).toBe('revocations.untrusted/chain.not_a_ca');
    expect(await load(await crlCa(fleet.subCa), [fleet.subCa.certificate, fleet.issuing.certificate])).toBe('revocations.untrusted/chain.path_length');
    expect(await load(await crlCa(fleet.noCertSign), [fleet.noCertSign.certificate])).toBe('revocations.untrusted/chain.key_usage');
  });

  it('signing certificates: signing.certificate with the reason, at the signing time', async () => {
    const material = (leaf: x509.X509Certificate, chain: x509.X509Certificate[]) => ({
      $case: 'x509CertificateChain' as const,
      x509CertificateChain: { certificates: [leaf, ...chain].map((c) => ({ rawBytes: Buffer.from(c.rawData) })) },
    });
    const ci: x509.JsonGeneralName = { type: 'url', value: 'https://ci.acme.example/pipelines/sensor' };
    for (const bad of await badChains(fleet, E.codeSigning, E.clientAuth, ci)) {
      const reason = reasonOf(() => checkSigningCertificatePath(material(bad.leaf.certificate, bad.intermediates), [fleet.root.certificate], new Date()));
      expect(reason, bad.name).toBe(bad.reason);
    }
    const good = await makeCert(fleet.issuing, { subject: 'CN=ci', keyUsage: F.digitalSignature, eku: [E.codeSigning], sans: [ci] });
    expect(() => checkSigningCertificatePath(material(good.certificate, [fleet.issuing.certificate]), [fleet.root.certificate], new Date())).not.toThrow();
  });

  it('timestamp authorities: a TSA chain not fit for timestamping is refused when the roots are compiled', async () => {
    const tsa = await createTimestampAuthority();
    const compile = (chain: x509.X509Certificate[]) =>
      reasonOf(() => compileRoots({ signingCas: [], timestampAuthorities: [chain.map((c) => c.toString('pem'))] }));
    expect(reasonOf(() => compileRoots({ signingCas: [], timestampAuthorities: [tsa.certChainPem] }))).toBeUndefined();
    const tsaRoot = await makeCert('self', { subject: 'CN=TSA root', ca: true, pathLength: 0, keyUsage: F.keyCertSign });
    const tsaLeaf = (issuer: KeyedCertificate, eku: string[], critical: boolean) =>
      makeCert(issuer, { subject: 'CN=TSA', keyUsage: F.digitalSignature, eku, ekuCritical: critical });
    expect(compile([(await tsaLeaf(tsaRoot, [E.timeStamping], true)).certificate, tsaRoot.certificate])).toBeUndefined();
    expect(compile([(await tsaLeaf(tsaRoot, [E.timeStamping], false)).certificate, tsaRoot.certificate])).toBe('chain.wrong_purpose');
    expect(compile([(await tsaLeaf(tsaRoot, [E.timeStamping, E.codeSigning], true)).certificate, tsaRoot.certificate])).toBe('chain.wrong_purpose');
    expect(compile([(await tsaLeaf(tsaRoot, [E.codeSigning], true)).certificate, tsaRoot.certificate])).toBe('chain.wrong_purpose');
    const noCertSignRoot = await makeCert('self', { subject: 'CN=TSA root without keyCertSign', ca: true, keyUsage: F.digitalSignature });
    expect(compile([(await tsaLeaf(noCertSignRoot, [E.timeStamping], true)).certificate, noCertSignRoot.certificate])).toBe('chain.key_usage');
    const deviceAsTsaCa = await tsaLeaf(fleet.device, [E.timeStamping], true);
    expect(compile([deviceAsTsaCa.certificate, fleet.device.certificate])).toBe('chain.not_a_ca');
  });

  it('device mTLS: the chain a client presents is validated as a device TLS client after the handshake', async () => {
    const server = await issueServerCertificate(fleet.issuing, TD, ['localhost'], { lifetimeMs: 3_600_000 });
    const verdicts: Array<{ authorized: boolean; reason: string | undefined }> = [];
    const chains = new ClientChainValidator(() => [fleet.root.certificate.toString('pem')]);
    const tls = createServer(
      {
        key: await privateKeyToPem(server.keys.privateKey),
        cert: [server.certificate, fleet.issuing.certificate].map((c) => c.toString('pem')).join('\n'),
        ca: [fleet.root.certificate.toString('pem')],
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.3',
      },
      (socket: TLSSocket) => {
        verdicts.push({ authorized: socket.authorized, reason: chains.validate(socket, new Date()).refused?.reason });
        socket.end('ok');
      },
    );
    tls.listen(0, '127.0.0.1');
    await once(tls, 'listening');
    const port = (tls.address() as AddressInfo).port;
    const present = async (leaf: KeyedCertificate, chain: x509.X509Certificate[]) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: [fleet.root.certificate.toString('pem')],
        key: await privateKeyToPem(leaf.keys.privateKey),
        cert: [leaf.certificate, ...chain].map((c) => c.toString('pem')).join('\n'),
      });
      socket.resume();
      await once(socket, 'end');
      socket.destroy();
      return verdicts.at(-1)!;
    };
    try {
      expect(await present(fleet.device, [fleet.issuing.certificate])).toMatchObject({ authorized: true, reason: undefined });
      for (const bad of await badChains(fleet, E.clientAuth, E.codeSigning, deviceSan('intruder'))) {
        const verdict = await present(bad.leaf, bad.intermediates);
        // OpenSSL (Node's default purpose for a server is "ssl_client") refuses these at the
        // handshake, and Berth's own validation refuses them too, whatever OpenSSL was told.
        expect(verdict.authorized, bad.name).toBe(false);
        expect(verdict.reason, bad.name).toMatch(/^chain\./);
      }
      // What OpenSSL lets through, Berth does not: a fleet-CA certificate that says nothing of its
      // purpose (no key usage, no extended key usage) is no device certificate.
      const vague = await makeCert(fleet.issuing, { subject: 'CN=vague', sans: [deviceSan('intruder')] });
      expect(await present(vague, [fleet.issuing.certificate])).toMatchObject({ authorized: true, reason: 'chain.key_usage' });
    } finally {
      tls.close();
    }
  });
});
