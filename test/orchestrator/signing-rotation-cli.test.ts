import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFleetSigning } from '../../trust/signing/fleet-signing.js';
import { fingerprintOfPem } from '../../trust/signing/roots-fingerprint.js';
import { signingRootsDigest, type FleetSigningRoots } from '../../trust/signing/roots.js';
import { berth } from '../support/berth-in-process.js';
import { call, startHarness, type Harness } from './harness.js';
import { createOperatorToken } from '../../orchestrator/admin/tokens.js';
import { silentLogger } from '../../common/logger.js';

// `berth orchestrator rotate-signing-ca [--tsa]` over the admin socket: a new signing CA (and TSA)
// issues from then on, the old ones stay in the served roots, and statements name the new digest.
describe('berth orchestrator rotate-signing-ca', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });
  const served = async () => (await h.admin('GET', '/api/v1/signing/roots')).body as FleetSigningRoots;

  it('rotates the CA, then CA and TSA, keeping the old ones served', async () => {
    const before = await served();
    const first = await berth('orchestrator', 'rotate-signing-ca', '--data-dir', h.dir);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const one = JSON.parse(first.out) as {
      signingCa: string;
      timestampAuthority: string;
      signingCas: number;
      timestampAuthorities: number;
      signingRootsDigest: string;
    };
    expect(one).toMatchObject({ signingCas: 2, timestampAuthorities: 1, timestampAuthority: fingerprintOfPem(before.timestampAuthorities[0]![0]!) });
    const afterOne = await served();
    expect(fingerprintOfPem(afterOne.signingCas[0]!)).toBe(one.signingCa);
    expect(afterOne.signingCas.slice(1)).toEqual(before.signingCas);
    expect(one.signingRootsDigest).toBe(signingRootsDigest(afterOne));
    expect(h.cp.desiredState.signingRootsDigest).toBe(one.signingRootsDigest);

    const second = await berth('orchestrator', 'rotate-signing-ca', '--tsa', '--data-dir', h.dir);
    expect(second.code).toBe(0);
    const two = JSON.parse(second.out) as typeof one;
    expect(two).toMatchObject({ signingCas: 3, timestampAuthorities: 2 });
    const afterTwo = await served();
    expect(afterTwo.signingCas.slice(1)).toEqual(afterOne.signingCas);
    expect(afterTwo.timestampAuthorities[1]).toEqual(before.timestampAuthorities[0]);
    expect(fingerprintOfPem(afterTwo.timestampAuthorities[0]![0]!)).toBe(two.timestampAuthority);
    // On disk as served: what another replica (or this one after a restart) loads.
    expect((await loadFleetSigning(join(h.dir, 'pki', 'signing')))!.roots).toEqual(afterTwo);
  });

  it('refuses a rotation that rotates nothing, and a non-admin', async () => {
    expect((await h.admin('POST', '/api/v1/admin/signing/rotations', { signingCa: false })).status).toBe(422);
    const { token } = await createOperatorToken(h.cp.deps.store, silentLogger, { name: 'ops', role: 'operator', by: 'test' });
    const asOperator = await call(`${h.cp.url}/api/v1/admin/signing/rotations`, {
      method: 'POST',
      ca: h.ca,
      headers: { authorization: `Bearer ${token}` },
      json: {},
    });
    expect(asOperator.status).toBe(403);
    expect((await served()).signingCas).toHaveLength(3);
  });

  it('retires a rotated-out CA and TSA: gone from the served roots and from disk, the digest in statements follows; the ones in use and unknown ones are refused', async () => {
    const before = await served();
    const [inUseCa, , oldestCa] = before.signingCas.map(fingerprintOfPem);
    const [inUseTsa, oldTsa] = before.timestampAuthorities.map((chain) => fingerprintOfPem(chain[0]!));
    const retired = await berth('orchestrator', 'retire-signing-root', oldestCa!, '--data-dir', h.dir);
    expect(retired.err).toBe('');
    expect(retired.code).toBe(0);
    const afterCa = await served();
    expect(afterCa.signingCas.map(fingerprintOfPem)).toEqual(before.signingCas.slice(0, 2).map(fingerprintOfPem));
    expect(JSON.parse(retired.out)).toMatchObject({
      fingerprint: oldestCa,
      signingCas: 2,
      timestampAuthorities: 2,
      signingRootsDigest: signingRootsDigest(afterCa),
    });
    expect(h.cp.desiredState.signingRootsDigest).toBe(signingRootsDigest(afterCa));

    expect((await h.admin('POST', '/api/v1/admin/signing/retirements', { fingerprint: oldTsa })).status).toBe(200);
    expect((await served()).timestampAuthorities.map((chain) => fingerprintOfPem(chain[0]!))).toEqual([inUseTsa]);
    expect((await loadFleetSigning(join(h.dir, 'pki', 'signing')))!.roots).toEqual(await served());

    for (const [fingerprint, status, code] of [
      [inUseCa, 409, 'signing.root_in_use'],
      [inUseTsa, 409, 'signing.root_in_use'],
      [oldestCa, 404, 'signing.unknown_root'],
      ['f'.repeat(64), 404, 'signing.unknown_root'],
    ] as const) {
      const answer = await h.admin('POST', '/api/v1/admin/signing/retirements', { fingerprint });
      expect(answer.status, fingerprint).toBe(status);
      expect(answer.body.code).toBe(code);
    }
    expect((await h.admin('POST', '/api/v1/admin/signing/retirements', { fingerprint: 'not hex' })).status).toBe(422);
    expect((await served()).signingCas).toHaveLength(2);
  });
});
