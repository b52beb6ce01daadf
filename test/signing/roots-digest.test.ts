import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { desiredStateClaimsSchema } from '../../trust/desired-state/statement.js';
import { signingRootsDigest, type FleetSigningRoots } from '../../trust/signing/roots.js';

// The digest a desired-state statement carries for the fleet signing roots, and the claim itself.
const roots: FleetSigningRoots = { signingCas: ['CA-NEW\n', 'CA-OLD\n'], timestampAuthorities: [['TSA\n', 'TSA-ROOT\n']] };

describe('signingRootsDigest', () => {
  it('is sha256 over the canonical JSON of exactly the served members', () => {
    const canonical = '{"signingCas":["CA-NEW\\n","CA-OLD\\n"],"timestampAuthorities":[["TSA\\n","TSA-ROOT\\n"]]}';
    expect(signingRootsDigest(roots)).toBe(`sha256:${createHash('sha256').update(canonical).digest('hex')}`);
  });

  it('does not depend on member order or whitespace of the document it was read from', () => {
    const reordered = JSON.parse('{ "timestampAuthorities": [["TSA\\n", "TSA-ROOT\\n"]],\n  "signingCas": ["CA-NEW\\n", "CA-OLD\\n"] }') as FleetSigningRoots;
    expect(signingRootsDigest(reordered)).toBe(signingRootsDigest(roots));
    // Extra members (which the agent's strict schema refuses anyway) are not part of it.
    expect(signingRootsDigest({ ...roots, extra: 1 } as FleetSigningRoots)).toBe(signingRootsDigest(roots));
  });

  it('changes with the order of the CAs, of a chain, and with any byte of a certificate', () => {
    const d = signingRootsDigest(roots);
    expect(signingRootsDigest({ ...roots, signingCas: ['CA-OLD\n', 'CA-NEW\n'] })).not.toBe(d);
    expect(signingRootsDigest({ ...roots, timestampAuthorities: [['TSA-ROOT\n', 'TSA\n']] })).not.toBe(d);
    expect(signingRootsDigest({ ...roots, signingCas: ['CA-NEW', 'CA-OLD\n'] })).not.toBe(d);
    expect(signingRootsDigest({ ...roots, signingCas: ['CA-NEW\n'] })).not.toBe(d);
    // Moving a certificate between the lists is another document.
    expect(signingRootsDigest({ signingCas: ['CA-NEW\n', 'CA-OLD\n', 'TSA\n'], timestampAuthorities: [['TSA-ROOT\n']] })).not.toBe(d);
  });
});

describe('desiredStateClaimsSchema signingRootsDigest', () => {
  const base = {
    iss: 'spiffe://t',
    sub: 'press-1',
    cnf: { 'x5t#S256': 'A'.repeat(43) },
    manifestVersion: 1,
    manifestDigest: `sha256:${'a'.repeat(64)}`,
    bundleDigest: null,
    deployments: [],
    iat: 1,
    exp: 2,
  };
  it('accepts statements with and without the claim', () => {
    expect(desiredStateClaimsSchema.parse(base).signingRootsDigest).toBeUndefined();
    expect(desiredStateClaimsSchema.parse({ ...base, signingRootsDigest: signingRootsDigest(roots) }).signingRootsDigest).toBe(signingRootsDigest(roots));
  });
  it('refuses a claim that is not a sha256 digest', () => {
    expect(desiredStateClaimsSchema.safeParse({ ...base, signingRootsDigest: 'md5:abc' }).success).toBe(false);
  });
});
