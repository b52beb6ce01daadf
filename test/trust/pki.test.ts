import { describe, expect, it } from 'vitest';
import { x509, generateP256, ECDSA_SHA256, importPrivateKeyPem, privateKeyToPem, fingerprintOf, type CryptoKeyPair } from '../../trust/x509.js';
import { CERTIFICATE_BACKDATE_MS, createRootCa, createIntermediateCa, issueDeviceCertificate, uriSans } from '../../trust/authority.js';
import { verifyCsr } from '../../trust/csr.js';
import { validatePath } from '../../trust/path/validate.js';
import { buildSpiffeBundle, bundleAuthorities } from '../../trust/bundle.js';
import { deviceIdFromSpiffeId, isDeviceId } from '../../trust/spiffe.js';
import { BerthError } from '../../common/errors.js';

async function csrFor(keys: CryptoKeyPair, san?: string): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=device',
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: san ? [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: san }])] : [],
  });
  return csr.toString('pem');
}

describe('fleet PKI', () => {
  it('issues a device certificate with one SPIFFE URI SAN, clientAuth, digitalSignature, chained to the root', async () => {
    const root = await createRootCa('fleet.test');
    const issuing = await createIntermediateCa(root, 'fleet.test');
    const deviceKeys = await generateP256();
    const csr = await verifyCsr(await csrFor(deviceKeys));
    const cert = await issueDeviceCertificate(issuing, 'fleet.test', 'line-3/press-7', csr.publicKey, { lifetimeMs: 3_600_000 });
    expect(uriSans(cert)).toEqual(['spiffe://fleet.test/device/line-3/press-7']);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.names.items).toHaveLength(1);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(cert.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(cert.getExtension(x509.BasicConstraintsExtension)!.ca).toBe(false);
    const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
    expect(lifetime).toBeGreaterThan(3_600_000);
    // Backdated for devices whose clocks are behind (docs/trust.md); valid for the lifetime asked from now.
    expect(lifetime).toBeLessThanOrEqual(3_600_000 + CERTIFICATE_BACKDATE_MS + 1000);
    expect(cert.notAfter.getTime() - Date.now()).toBeLessThanOrEqual(3_600_000 + 1000);
    // Only the intermediate's key was needed to issue; the root verifies the chain.
    const { anchor } = validatePath({
      leaf: cert,
      intermediates: [issuing.certificate],
      anchors: [root.certificate],
      purpose: 'device-tls-client',
      at: new Date(),
    });
    expect(fingerprintOf(anchor)).toBe(fingerprintOf(root.certificate));
    const other = await createRootCa('fleet.test');
    expect(() =>
      validatePath({ leaf: cert, intermediates: [issuing.certificate], anchors: [other.certificate], purpose: 'device-tls-client', at: new Date() }),
    ).toThrow(expect.objectContaining({ code: 'chain.untrusted' }));
  });

  it('round-trips a private key through PKCS#8 PEM', async () => {
    const keys = await generateP256();
    const back = await importPrivateKeyPem(await privateKeyToPem(keys.privateKey));
    const data = new TextEncoder().encode('x');
    const sig = await crypto.subtle.sign(ECDSA_SHA256, back.privateKey, data);
    expect(await crypto.subtle.verify(ECDSA_SHA256, keys.publicKey, sig, data)).toBe(true);
    expect(await crypto.subtle.verify(ECDSA_SHA256, back.publicKey, sig, data)).toBe(true);
  });

  it('refuses malformed, tampered and non-P-256 CSRs with named codes', async () => {
    const keys = await generateP256();
    const good = await csrFor(keys, 'spiffe://fleet.test/device/a');
    expect((await verifyCsr(good)).uriSans).toEqual(['spiffe://fleet.test/device/a']);
    await expect(verifyCsr(undefined)).rejects.toMatchObject({ code: 'csr.missing' });
    await expect(verifyCsr('hello')).rejects.toMatchObject({ code: 'csr.malformed' });
    await expect(verifyCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----')).rejects.toMatchObject({ code: 'csr.malformed' });
    await expect(verifyCsr('x'.repeat(10_000))).rejects.toMatchObject({ code: 'csr.too_large' });
    // Flip one byte inside the signature: the request no longer proves possession.
    const der = Buffer.from(x509.PemConverter.decode(good)[0]!);
    der[der.length - 5] = der[der.length - 5]! ^ 0x01;
    const tampered = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
    await expect(verifyCsr(tampered)).rejects.toBeInstanceOf(BerthError);
    const rsa = (await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    const rsaCsr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=x',
      keys: rsa,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    });
    await expect(verifyCsr(rsaCsr.toString('pem'))).rejects.toMatchObject({ code: 'csr.bad_key' });
  });

  it('builds a SPIFFE bundle whose authorities parse back', async () => {
    const root = await createRootCa('fleet.test');
    const bundle = await buildSpiffeBundle([root.certificate], 3, 300);
    expect(bundle).toMatchObject({ spiffe_sequence: 3, spiffe_refresh_hint: 300, keys: [{ use: 'x509-svid', kty: 'EC', crv: 'P-256' }] });
    expect(fingerprintOf(bundleAuthorities(bundle)[0]!)).toBe(fingerprintOf(root.certificate));
  });

  it('accepts Margo device ids and maps SPIFFE IDs back only inside the trust domain', () => {
    expect(isDeviceId('gw-1/plc.2')).toBe(true);
    for (const bad of ['', '/a', 'a/', 'a//b', 'a b', '../x', 'a/../b', 'ü']) expect(isDeviceId(bad)).toBe(false);
    expect(deviceIdFromSpiffeId('fleet.test', 'spiffe://fleet.test/device/gw-1/plc')).toBe('gw-1/plc');
    expect(deviceIdFromSpiffeId('fleet.test', 'spiffe://other.test/device/gw-1')).toBeUndefined();
    expect(deviceIdFromSpiffeId('fleet.test', 'spiffe://fleet.test/workload/x')).toBeUndefined();
  });
});
