import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { bundleToJSON } from '@sigstore/bundle';
import { sha256Digest } from '../../common/digest.js';
import { generateVendorKey, loadPrivateKey, loadPublicKey } from '../../trust/signing/keys.js';
import { compilePolicy } from '../../trust/signing/policy.js';
import { provenanceStatement } from '../../trust/signing/provenance.js';
import { serializeBundle, signComponent, signStatement } from '../../trust/signing/sign.js';
import { verifyComponent, type BundleBytes } from '../../trust/signing/verify.js';
import { VerificationCache } from '../../trust/signing/cache.js';

const vendorA = generateVendorKey();
const vendorA2 = generateVendorKey();
const vendorB = generateVendorKey();
const component = new Uint8Array([0, 0x61, 0x73, 0x6d, ...randomBytes(2048)]);
const digest = sha256Digest(component);

function signature(bytes: Uint8Array, key = vendorA): BundleBytes {
  return { kind: 'message-signature', bytes: serializeBundle(signComponent(bytes, loadPrivateKey(key.privateKeyPem))) };
}
function attestation(opts: { digest?: string; builderId?: string; source?: string; key?: typeof vendorA } = {}): BundleBytes {
  const statement = provenanceStatement({
    name: 'sensor.wasm',
    digest: (opts.digest ?? digest) as `sha256:${string}`,
    builderId: opts.builderId ?? 'https://ci.acme.example/builders/wasm',
    sourceRepository: opts.source ?? 'https://git.acme.example/acme/sensor',
    sourceRevision: 'a'.repeat(40),
  });
  return { kind: 'dsse-envelope', bytes: serializeBundle(signStatement(statement, loadPrivateKey((opts.key ?? vendorA).privateKeyPem))) };
}
const policyA = compilePolicy({ vendor: 'acme', publicKeys: [vendorA.publicKeyPem] });

describe('vendor-key signatures', () => {
  it('writes a v0.3 Sigstore bundle with a message signature over the sha256 digest and a key hint', () => {
    const json = bundleToJSON(signComponent(component, loadPrivateKey(vendorA.privateKeyPem))) as Record<string, any>;
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(json.messageSignature.messageDigest.algorithm).toBe('SHA2_256');
    expect(Buffer.from(json.messageSignature.messageDigest.digest, 'base64').toString('hex')).toBe(digest.slice(7));
    expect(json.verificationMaterial.publicKey.hint).toBe(vendorA.keyId);
  });

  it('verifies a component signed by the vendor key', () => {
    const result = verifyComponent(policyA, component, [signature(component)]);
    expect(result).toMatchObject({ vendor: 'acme', componentDigest: digest, signer: { kind: 'key', keyId: vendorA.keyId } });
  });

  it('refuses a tampered component', () => {
    const tampered = Uint8Array.from(component);
    tampered[100] = tampered[100]! ^ 1;
    expect(() => verifyComponent(policyA, tampered, [signature(component)])).toThrow(expect.objectContaining({ code: 'signing.digest-mismatch' }));
  });

  it('refuses a bundle whose digest was rewritten to match but whose signature was not', () => {
    const tampered = Uint8Array.from(component);
    tampered[10] = tampered[10]! ^ 1;
    const json = bundleToJSON(signComponent(component, loadPrivateKey(vendorA.privateKeyPem))) as Record<string, any>;
    json.messageSignature.messageDigest.digest = Buffer.from(sha256Digest(tampered).slice(7), 'hex').toString('base64');
    const bytes = new TextEncoder().encode(JSON.stringify(json));
    expect(() => verifyComponent(policyA, tampered, [{ kind: 'message-signature', bytes }])).toThrow(
      expect.objectContaining({ code: 'signing.bad-signature' }),
    );
  });

  it('refuses an unsigned component', () => {
    expect(() => verifyComponent(policyA, component, [])).toThrow(
      expect.objectContaining({ code: 'signing.unsigned', message: expect.stringContaining(digest) }),
    );
    expect(() => verifyComponent(policyA, component, [attestation()])).toThrow(expect.objectContaining({ code: 'signing.unsigned' }));
  });

  it("refuses another vendor's key, naming the key", () => {
    expect(() => verifyComponent(policyA, component, [signature(component, vendorB)])).toThrow(
      expect.objectContaining({ code: 'signing.untrusted-key', message: expect.stringContaining(vendorB.keyId) }),
    );
  });

  it('refuses a forged hint: the key named must also verify the signature', () => {
    const json = bundleToJSON(signComponent(component, loadPrivateKey(vendorB.privateKeyPem))) as Record<string, any>;
    json.verificationMaterial.publicKey.hint = vendorA.keyId;
    const bytes = new TextEncoder().encode(JSON.stringify(json));
    expect(() => verifyComponent(policyA, component, [{ kind: 'message-signature', bytes }])).toThrow(
      expect.objectContaining({ code: 'signing.bad-signature' }),
    );
  });

  it('accepts either key during rotation, and only those', () => {
    const rotating = compilePolicy({ vendor: 'acme', publicKeys: [vendorA.publicKeyPem, vendorA2.publicKeyPem] });
    expect(verifyComponent(rotating, component, [signature(component, vendorA)]).signer).toEqual({ kind: 'key', keyId: vendorA.keyId });
    expect(verifyComponent(rotating, component, [signature(component, vendorA2)]).signer).toEqual({ kind: 'key', keyId: vendorA2.keyId });
    const afterRotation = compilePolicy({ vendor: 'acme', publicKeys: [vendorA2.publicKeyPem] });
    expect(() => verifyComponent(afterRotation, component, [signature(component, vendorA)])).toThrow(
      expect.objectContaining({ code: 'signing.untrusted-key' }),
    );
  });

  it('uses any valid signature when several are attached (one from a stranger)', () => {
    expect(verifyComponent(policyA, component, [signature(component, vendorB), signature(component)]).signer).toEqual({ kind: 'key', keyId: vendorA.keyId });
  });

  it.each([
    ['not JSON', 'not json', /not a valid Sigstore bundle/],
    ['an empty object', '{}', /not a valid Sigstore bundle/],
    ['an old media type', null, /expected application\/vnd\.dev\.sigstore\.bundle\.v0\.3\+json/],
  ])('refuses a bundle that is %s', (_name, text, why) => {
    let bytes: Uint8Array;
    if (text === null) {
      const json = bundleToJSON(signComponent(component, loadPrivateKey(vendorA.privateKeyPem))) as Record<string, any>;
      json.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
      bytes = new TextEncoder().encode(JSON.stringify(json));
    } else bytes = new TextEncoder().encode(text);
    expect(() => verifyComponent(policyA, component, [{ kind: 'message-signature', bytes }])).toThrow(
      expect.objectContaining({ code: 'signing.bad-bundle', message: expect.stringMatching(why) }),
    );
  });
});

describe('provenance attestations', () => {
  const strict = compilePolicy({
    vendor: 'acme',
    publicKeys: [vendorA.publicKeyPem],
    require: { provenance: true, builderIds: ['https://ci\\.acme\\.example/builders/.+'], sourceRepositories: ['https://git\\.acme\\.example/acme/.+'] },
  });

  it('reads builder and source from a vendor-signed SLSA v1 statement', () => {
    const result = verifyComponent(strict, component, [signature(component), attestation()]);
    expect(result.provenance).toEqual({ builderId: 'https://ci.acme.example/builders/wasm', sourceRepository: 'https://git.acme.example/acme/sensor' });
  });

  it('refuses a statement whose subject is another digest', () => {
    const other = sha256Digest('another component');
    expect(() => verifyComponent(policyA, component, [signature(component), attestation({ digest: other })])).toThrow(
      expect.objectContaining({ code: 'provenance.subject-mismatch', message: expect.stringContaining(other) }),
    );
  });

  it('refuses when provenance is required and missing, or signed by someone else', () => {
    expect(() => verifyComponent(strict, component, [signature(component)])).toThrow(expect.objectContaining({ code: 'provenance.missing' }));
    const result = () => verifyComponent(strict, component, [signature(component), attestation({ key: vendorB })]);
    expect(result).toThrow(expect.objectContaining({ code: 'provenance.missing' }));
    expect(verifyComponent(policyA, component, [signature(component), attestation({ key: vendorB })]).ignoredAttestations).toBe(1);
  });

  it('refuses an untrusted builder and a foreign source repository (patterns are anchored)', () => {
    expect(() =>
      verifyComponent(strict, component, [signature(component), attestation({ builderId: 'https://evil.example/https://ci.acme.example/builders/x' })]),
    ).toThrow(expect.objectContaining({ code: 'provenance.builder' }));
    expect(() =>
      verifyComponent(strict, component, [signature(component), attestation({ source: 'https://git.acme.example/acme/x.evil.example' })]),
    ).not.toThrow();
    expect(() =>
      verifyComponent(strict, component, [signature(component), attestation({ source: 'https://git.evil.example/https://git.acme.example/acme/x' })]),
    ).toThrow(expect.objectContaining({ code: 'provenance.source' }));
  });
});

describe('vendor trust policy', () => {
  it.each([
    [{ vendor: 'acme' }, /at least one public key/],
    [{ vendor: 'acme', publicKeys: ['not a pem'] }, /not a readable PEM public key/],
    [{ vendor: 'acme', publicKeys: [generateVendorKey().privateKeyPem] }, /private key/],
    [{ vendor: 'acme', identities: [{ subject: '(', issuer: 'x' }] }, /not a valid regular expression/],
    [{ vendor: 'acme', publicKeys: [vendorA.publicKeyPem], extra: 1 }, /invalid/],
  ])('refuses an invalid policy %#', (input, why) => {
    expect(() => compilePolicy(input)).toThrow(why);
  });

  it('refuses keys that are not P-256', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => loadPublicKey(rsa)).toThrow(/not an ECDSA P-256 key/);
  });
});

describe('verification cache', () => {
  it('verifies each digest once per policy and never serves another policy', () => {
    const cache = new VerificationCache();
    const bundles = [signature(component)];
    cache.verify(policyA, component, bundles);
    cache.verify(policyA, component, bundles);
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 1, misses: 1 });
    const policyB = compilePolicy({ vendor: 'acme', publicKeys: [vendorB.publicKeyPem] });
    expect(() => cache.verify(policyB, component, bundles)).toThrow(expect.objectContaining({ code: 'signing.untrusted-key' }));
  });

  it('does not let an earlier verdict vouch for the same bytes carried with other signatures', () => {
    const cache = new VerificationCache();
    cache.verify(policyA, component, [signature(component)]);
    expect(() => cache.verify(policyA, component, [])).toThrow(expect.objectContaining({ code: 'signing.unsigned' }));
    expect(() => cache.verify(policyA, component, [signature(component, vendorB)])).toThrow(expect.objectContaining({ code: 'signing.untrusted-key' }));
    const [signed, attested] = [signature(component), attestation()];
    cache.verify(policyA, component, [attested, signed]);
    cache.verify(policyA, component, [signed, attested]);
    expect(cache.hits).toBe(1);
  });

  it('does not let a cached digest vouch for other bytes', () => {
    const cache = new VerificationCache();
    cache.verify(policyA, component, [signature(component)]);
    const other = new Uint8Array([1, 2, 3]);
    expect(() => cache.verify(policyA, other, [signature(component)])).toThrow(expect.objectContaining({ code: 'signing.digest-mismatch' }));
  });
});
