import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { PKIStatus, TimeStampResp } from '@peculiar/asn1-tsp';
import * as x509 from '@peculiar/x509';
import { silentLogger } from '../../common/logger.js';
import { createOperatorToken } from '../../orchestrator/admin/tokens.js';
import { vendorSigningIdentity } from '../../orchestrator/routes/signing-routes.js';
import { loadOrCreateFleetSigning } from '../../trust/signing/fleet-signing.js';
import { requestTimestamp } from '../../trust/signing/timestamp-client.js';
import { call, startHarness, type Harness } from '../orchestrator/harness.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { Transport } from '../../oci/transport.js';
import { addVendor, clientOptions, hello, literal, push, register, type Caller } from './support.js';
import { berth } from '../support/berth-in-process.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

// The control plane's RFC 3161 TSA and fleet signing CA over real HTTPS, and `berth sign`
// against them end to end: certificate for a CSR, timestamp, push, admission.
let dir: string;
let registry: TestRegistry;
let h: Harness;
let acme: Caller;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-signing-services-'));
  registry = await startRegistry({ tls: true });
  h = await startHarness({ registries: { [registry.host]: clientOptions(registry) } });
  const identity = vendorSigningIdentity('fleet.test', 'acme');
  acme = await addVendor(
    h,
    'acme',
    { vendor: 'acme', identities: [{ subject: literal(identity), issuer: literal(h.cp.url) }], repositories: ['127\\.0\\.0\\.1:[0-9]+/acme/.+'] },
    'sensor',
  );
});
afterAll(async () => {
  await h?.stop();
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function keyAndCsr(san?: string): Promise<{ keyPem: string; csr: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=acme release pipeline',
    keys,
    signingAlgorithm: ALG,
    extensions: san ? [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: san }])] : [],
  });
  return { keyPem: x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'), csr: csr.toString('pem') };
}

describe('signing services of the control plane', () => {
  it('berth signing-cert, then berth sign --cert … --tsa-url <control plane> end to end: certificate, timestamp, push, admission', async () => {
    const { token } = await createOperatorToken(h.cp.deps.store, silentLogger, { name: 'acme release', role: 'vendor:acme', by: 'test' });
    await writeFile(join(dir, 'fleet-ca.pem'), h.ca.join(''));
    const previous = process.env.BERTH_VENDOR_TOKEN;
    process.env.BERTH_VENDOR_TOKEN = token;
    let got;
    try {
      got = await berth('signing-cert', '--url', h.cp.url, '--ca', join(dir, 'fleet-ca.pem'), '--out', join(dir, 'signing'));
    } finally {
      if (previous === undefined) delete process.env.BERTH_VENDOR_TOKEN;
      else process.env.BERTH_VENDOR_TOKEN = previous;
    }
    expect(got.err).toBe('');
    expect(got.out).toContain(`spiffe://fleet.test/vendor/acme, issuer ${h.cp.url}, valid 10 minutes`);
    expect((await stat(join(dir, 'signing.key'))).mode & 0o777).toBe(0o600);

    const component = hello();
    await writeFile(join(dir, 'sensor.wasm'), component);
    const signed = await berth(
      'sign',
      join(dir, 'sensor.wasm'),
      '--key',
      join(dir, 'signing.key'),
      '--cert',
      join(dir, 'signing.crt'),
      '--tsa-url',
      `${h.cp.url}/api/v1/timestamp`,
      '--tsa-ca',
      join(dir, 'fleet-ca.pem'),
    );
    expect(signed.err).toBe('');
    expect(signed.code).toBe(0);
    const bundle = await readFile(join(dir, 'sensor.wasm.sig.json'));
    expect(JSON.parse(bundle.toString()).verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);

    await push(registry, 'acme/sensor', '1.0.0', component, [{ kind: 'message-signature', bytes: bundle }]);
    const admitted = await register(acme, 'sensor', '1.0.0', `oci://${registry.host}/acme/sensor:1.0.0`);
    expect(admitted.status, JSON.stringify(admitted.body)).toBe(201);
    expect(admitted.body.verification.signer).toContain(`spiffe://fleet.test/vendor/acme (issuer ${h.cp.url}`);
  });

  it('berth signing-cert refuses without a vendor token, and reports a refused token', async () => {
    const previous = process.env.BERTH_VENDOR_TOKEN;
    try {
      delete process.env.BERTH_VENDOR_TOKEN;
      const missing = await berth('signing-cert', '--url', h.cp.url, '--ca', join(dir, 'fleet-ca.pem'), '--out', join(dir, 'none'));
      expect(missing.code).toBe(2);
      expect(missing.err).toMatch(/set BERTH_VENDOR_TOKEN/);
      process.env.BERTH_VENDOR_TOKEN = h.adminToken;
      const refused = await berth('signing-cert', '--url', h.cp.url, '--ca', join(dir, 'fleet-ca.pem'), '--out', join(dir, 'none'));
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/role 'admin' may not POST \/api\/v1\/signing\/certificates \(403\)/);
    } finally {
      if (previous === undefined) delete process.env.BERTH_VENDOR_TOKEN;
      else process.env.BERTH_VENDOR_TOKEN = previous;
    }
  });

  it('the certificate endpoint answers a CSR with the certificate and its chain', async () => {
    const { csr } = await keyAndCsr();
    const issued = await acme('POST', '/api/v1/signing/certificates', { csr });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    expect(issued.body).toMatchObject({
      identity: 'spiffe://fleet.test/vendor/acme',
      issuer: h.cp.url,
      validForSeconds: 600,
      chain: [h.cp.deps.fleetSigning!.ca.certPem],
    });
    const cert = new x509.X509Certificate(issued.body.certificate);
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(600_000);
    expect(await cert.verify({ publicKey: new x509.X509Certificate(h.cp.deps.fleetSigning!.ca.certPem).publicKey, signatureOnly: true })).toBe(true);
  });

  it("the certificate's identity is the token's vendor, whatever the CSR asks for; only vendor tokens get one; a bad CSR is 422", async () => {
    const { csr } = await keyAndCsr('spiffe://fleet.test/vendor/globex');
    const issued = await acme('POST', '/api/v1/signing/certificates', { csr });
    const san = new x509.X509Certificate(issued.body.certificate).getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.names.items.map((n) => n.value)).toEqual(['spiffe://fleet.test/vendor/acme']);

    expect((await h.admin('POST', '/api/v1/signing/certificates', { csr })).status).toBe(403);
    const anonymous = await call(`${h.cp.url}/api/v1/signing/certificates`, { method: 'POST', ca: h.ca, json: { csr } });
    expect(anonymous.status).toBe(401);
    const bad = await acme('POST', '/api/v1/signing/certificates', { csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].field).toBe('csr');
    expect((await acme('POST', '/api/v1/signing/certificates', { csr, lifetime: 99999 })).status).toBe(422);
    expect(h.events('signing.certificate_issued').length).toBeGreaterThanOrEqual(2);
  });

  it('the TSA is public, answers RFC 3161 over HTTPS, and refuses what is not a small timestamp query', async () => {
    const token = await requestTimestamp(`${h.cp.url}/api/v1/timestamp`, Buffer.from('a signature'), { ca: h.ca });
    expect(AsnConvert.parse(token, TimeStampResp).status.status).toBe(PKIStatus.granted);

    const raw = (body: Buffer, type: string) =>
      call(`${h.cp.url}/api/v1/timestamp`, { method: 'POST', ca: h.ca, raw: body, headers: { 'content-type': type } });
    // A malformed query still gets a DER answer, status rejection, as RFC 3161 asks.
    const garbage = await new Transport({ ca: h.ca }).send({
      method: 'POST',
      url: `${h.cp.url}/api/v1/timestamp`,
      headers: { 'content-type': 'application/timestamp-query' },
      body: Buffer.from('not DER'),
      maxBytes: 65536,
      what: 'a timestamp',
    });
    expect(garbage.status).toBe(200);
    expect(garbage.headers['content-type']).toBe('application/timestamp-reply');
    const rejected = AsnConvert.parse(garbage.body, TimeStampResp).status;
    expect(rejected.status).toBe(PKIStatus.rejection);
    expect(rejected.statusString?.join(' ')).toMatch(/not a DER TimeStampReq/);
    const wrongType = await raw(Buffer.from('x'), 'application/json');
    expect(wrongType.status).toBe(415);
    expect(wrongType.headers['content-type']).toContain('application/problem+json');
    const tooLarge = await raw(Buffer.alloc(5000, 1), 'application/timestamp-query');
    expect(tooLarge.status).toBe(413);
  });

  it('serves the fleet signing roots verifiers need', async () => {
    const roots = (await call(`${h.cp.url}/api/v1/signing/roots`, { ca: h.ca })).body;
    expect(roots).toEqual({ signingCas: [h.cp.deps.fleetSigning!.ca.certPem], timestampAuthorities: [h.cp.deps.fleetSigning!.tsa.certChainPem] });
  });

  it('the CA and TSA are made once and kept on disk; half of one on disk is refused', async () => {
    const keep = join(dir, 'kept');
    const first = await loadOrCreateFleetSigning(keep);
    const again = await loadOrCreateFleetSigning(keep);
    expect(again.ca.certPem).toBe(first.ca.certPem);
    expect(again.tsa.certChainPem).toEqual(first.tsa.certChainPem);
    expect(again.compiled.fingerprint).toBe(first.compiled.fingerprint);
    await unlink(join(keep, 'tsa.key'));
    await expect(loadOrCreateFleetSigning(keep)).rejects.toMatchObject({ code: 'signing.tsa' });
    await unlink(join(keep, 'signing-ca.pem'));
    await expect(loadOrCreateFleetSigning(keep)).rejects.toMatchObject({ code: 'signing.ca' });
  });
});
