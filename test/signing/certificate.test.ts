import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { bundleToJSON } from '@sigstore/bundle';
import { checkSigningCertificatePath } from '../../trust/signing/certificate-path.js';
import { createSigningCa, type SigningCa } from '../../trust/signing/fleet-ca.js';
import { compilePolicy } from '../../trust/signing/policy.js';
import { compileRoots, type CompiledRoots } from '../../trust/signing/roots.js';
import { serializeBundle, signComponent, signComponentWithCertificate } from '../../trust/signing/sign.js';
import { createTimestampAuthority, type TimestampAuthority } from '../../trust/signing/timestamp-authority.js';
import { verifyComponent, type BundleBytes } from '../../trust/signing/verify.js';
import { VerificationCache } from '../../trust/signing/cache.js';

const component = new Uint8Array([0, 0x61, 0x73, 0x6d, ...randomBytes(1024)]);
const CI = 'https://ci.acme.example/pipelines/sensor';
const ISSUER = 'https://berth.factory.example/signing';

let ca: SigningCa;
let otherCa: SigningCa;
let tsa: TimestampAuthority;
let roots: CompiledRoots;
let signingKey: KeyObject;

const policy = compilePolicy({
  vendor: 'acme',
  identities: [{ subject: 'https://ci\\.acme\\.example/pipelines/.+', issuer: 'https://berth\\.factory\\.example/signing' }],
});

async function signed(
  opts: { ca?: SigningCa; subject?: string; issuer?: string; notBefore?: Date; validityMs?: number; timestampAt?: Date | null } = {},
): Promise<BundleBytes> {
  const cert = await (opts.ca ?? ca).issue({
    publicKey: signingKey,
    subject: opts.subject ?? CI,
    issuer: opts.issuer ?? ISSUER,
    ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
    ...(opts.validityMs ? { validityMs: opts.validityMs } : {}),
  });
  const { privateKey } = keys;
  const stamp = opts.timestampAt === null ? undefined : (sig: Buffer) => tsa.timestamp(sig, opts.timestampAt ?? new Date());
  return { kind: 'message-signature', bytes: serializeBundle(signComponentWithCertificate(component, privateKey, cert, stamp)) };
}

const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

beforeAll(async () => {
  signingKey = keys.publicKey;
  [ca, otherCa, tsa] = await Promise.all([createSigningCa(), createSigningCa('Some other CA'), createTimestampAuthority()]);
  roots = compileRoots({ signingCas: [ca.certPem], timestampAuthorities: [tsa.certChainPem] });
});

describe('short-lived certificates from the fleet signing CA with an RFC 3161 timestamp', () => {
  it('writes a v0.3 bundle with the certificate and one RFC 3161 timestamp', async () => {
    const json = JSON.parse(Buffer.from((await signed()).bytes).toString()) as Record<string, any>;
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(json.verificationMaterial.certificate.rawBytes).toBeTruthy();
    expect(json.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
  });

  it('verifies offline and reports identity, issuer and timestamp', async () => {
    const result = verifyComponent(policy, component, [await signed()], roots);
    expect(result.signer).toMatchObject({ kind: 'certificate', subject: CI, issuer: ISSUER });
    expect(result.signer.kind === 'certificate' && Math.abs(result.signer.signedAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('still verifies after the certificate expired, because the timestamp falls inside its validity', async () => {
    const issuedAt = new Date(Date.now() - 3 * 3600_000);
    const bundle = await signed({ notBefore: issuedAt, validityMs: 10 * 60_000, timestampAt: new Date(issuedAt.getTime() + 60_000) });
    expect(verifyComponent(policy, component, [bundle], roots).signer.kind).toBe('certificate');
  });

  it('refuses an expired certificate without a timestamp', async () => {
    const issuedAt = new Date(Date.now() - 3 * 3600_000);
    const bundle = await signed({ notBefore: issuedAt, validityMs: 10 * 60_000, timestampAt: null });
    expect(() => verifyComponent(policy, component, [bundle], roots)).toThrow(
      expect.objectContaining({ code: 'signing.timestamp', message: expect.stringMatching(/expected 1 timestamps, got 0/) }),
    );
  });

  it('refuses a certificate whose timestamp falls after it expired', async () => {
    const issuedAt = new Date(Date.now() - 3 * 3600_000);
    const bundle = await signed({ notBefore: issuedAt, validityMs: 10 * 60_000 });
    expect(() => verifyComponent(policy, component, [bundle], roots)).toThrow(
      expect.objectContaining({ code: 'signing.certificate', message: expect.stringMatching(/expired/) }),
    );
  });

  it('refuses a timestamp from an authority the fleet does not trust', async () => {
    const rogue = await createTimestampAuthority('rogue TSA');
    const cert = await ca.issue({ publicKey: signingKey, subject: CI, issuer: ISSUER });
    const bundle = serializeBundle(signComponentWithCertificate(component, keys.privateKey, cert, (sig) => rogue.timestamp(sig)));
    expect(() => verifyComponent(policy, component, [{ kind: 'message-signature', bytes: bundle }], roots)).toThrow(
      expect.objectContaining({ code: 'signing.timestamp' }),
    );
  });

  it('refuses a timestamp over other bytes than the signature', async () => {
    const cert = await ca.issue({ publicKey: signingKey, subject: CI, issuer: ISSUER });
    const bundle = serializeBundle(signComponentWithCertificate(component, keys.privateKey, cert, () => tsa.timestamp(Buffer.from('something else'))));
    expect(() => verifyComponent(policy, component, [{ kind: 'message-signature', bytes: bundle }], roots)).toThrow(
      expect.objectContaining({ code: 'signing.timestamp' }),
    );
  });

  it('refuses a garbled timestamp token with a clear error, not a crash', async () => {
    const json = JSON.parse(Buffer.from((await signed()).bytes).toString()) as Record<string, any>;
    json.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp = Buffer.from('garbage').toString('base64');
    const bytes = new TextEncoder().encode(JSON.stringify(json));
    expect(() => verifyComponent(policy, component, [{ kind: 'message-signature', bytes }], roots)).toThrow(
      expect.objectContaining({ name: 'BerthError', message: expect.stringContaining("is not signed by vendor 'acme'") }),
    );
  });

  it('refuses a certificate from another CA', async () => {
    const bundle = await signed({ ca: otherCa });
    expect(() => verifyComponent(policy, component, [bundle], roots)).toThrow(expect.objectContaining({ code: 'signing.certificate' }));
  });

  it('refuses an identity or issuer that does not match, with anchored patterns', async () => {
    await expect(
      signed({ subject: 'https://ci.evil.example/pipelines/sensor' }).then((b) => verifyComponent(policy, component, [b], roots)),
    ).rejects.toMatchObject({
      code: 'signing.identity-mismatch',
      message: expect.stringContaining("signer 'https://ci.evil.example/pipelines/sensor'"),
    });
    await expect(
      signed({ subject: `${CI}`, issuer: 'https://berth.factory.example/signing.evil' }).then((b) => verifyComponent(policy, component, [b], roots)),
    ).rejects.toMatchObject({
      code: 'signing.identity-mismatch',
    });
    await expect(signed({ subject: `https://evil.example/?x=${CI}` }).then((b) => verifyComponent(policy, component, [b], roots))).rejects.toMatchObject({
      code: 'signing.identity-mismatch',
    });
  });

  it('refuses a certificate bundle when the vendor trusts only keys, and vice versa', async () => {
    const keyOnly = compilePolicy({ vendor: 'acme', publicKeys: [keys.publicKey.export({ type: 'spki', format: 'pem' }).toString()] });
    const certBundle = await signed();
    expect(() => verifyComponent(keyOnly, component, [certBundle], roots)).toThrow(expect.objectContaining({ code: 'signing.untrusted-signer' }));
    const keyBundle: BundleBytes = { kind: 'message-signature', bytes: serializeBundle(signComponent(component, keys.privateKey)) };
    expect(verifyComponent(keyOnly, component, [keyBundle], roots).signer.kind).toBe('key');
    expect(() => verifyComponent(policy, component, [keyBundle], roots)).toThrow(expect.objectContaining({ code: 'signing.untrusted-signer' }));
  });

  it('refuses a leaf that is not for code signing', async () => {
    const cert = await ca.issue({ publicKey: signingKey, subject: CI, issuer: ISSUER });
    // Swap in a TSA certificate (timeStamping EKU) as the "signing" certificate.
    const bundle = bundleToJSON(signComponentWithCertificate(component, keys.privateKey, cert, (sig) => tsa.timestamp(sig))) as Record<string, any>;
    const tsaLeaf = tsa.certChainPem[0].replace(/-----[A-Z ]+-----|\s/g, '');
    bundle.verificationMaterial.certificate.rawBytes = tsaLeaf;
    const tsaRoots = compileRoots({ signingCas: [tsa.certChainPem[1]], timestampAuthorities: [tsa.certChainPem] });
    const bytes = new TextEncoder().encode(JSON.stringify(bundle));
    expect(() => verifyComponent(policy, component, [{ kind: 'message-signature', bytes }], tsaRoots)).toThrow(
      expect.objectContaining({ code: 'signing.bad-signature' }),
    );
    const material = (rawBase64: string) => ({ $case: 'certificate' as const, certificate: { rawBytes: Buffer.from(rawBase64, 'base64') } });
    expect(() => checkSigningCertificatePath(material(tsaLeaf), tsaRoots.signingAnchors, new Date())).toThrow(
      expect.objectContaining({ code: 'signing.certificate', details: { reason: 'chain.wrong_purpose' } }),
    );
    expect(() => checkSigningCertificatePath(material(cert.replace(/-----[A-Z ]+-----|\s/g, '')), roots.signingAnchors, new Date())).not.toThrow();
  });

  it('caches per roots as well as per policy', async () => {
    const cache = new VerificationCache();
    const bundle = await signed();
    cache.verify(policy, component, [bundle], roots);
    cache.verify(policy, component, [bundle], roots);
    expect(cache.hits).toBe(1);
    const noTsa = compileRoots({ signingCas: [ca.certPem], timestampAuthorities: [] });
    expect(() => cache.verify(policy, component, [bundle], noTsa)).toThrow(expect.objectContaining({ code: 'signing.timestamp' }));
  });
});
