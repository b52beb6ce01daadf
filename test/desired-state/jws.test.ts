import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { sha256Digest } from '../../common/digest.js';
import { createDesiredStateSigner } from '../../trust/desired-state/sign.js';
import { certificateThumbprint, type DesiredStateClaims } from '../../trust/desired-state/statement.js';
import { desiredStateRefusals, verifyDesiredState, type VerifyDesiredStateOptions } from '../../trust/desired-state/verify.js';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keys = pair();
const thumb = certificateThumbprint(randomBytes(300));
const manifestBytes = '{"bundle":null,"deployments":[],"manifestVersion":7}';
const deployments = [{ deploymentId: 'line-monitor', digest: sha256Digest('yaml') }];
const now = new Date('2026-06-01T00:00:00Z');
const iat = Math.floor(now.getTime() / 1000);

function claims(over: Partial<DesiredStateClaims> = {}): DesiredStateClaims {
  return {
    iss: 'berth-control-plane',
    sub: 'press-7',
    cnf: { 'x5t#S256': thumb },
    manifestVersion: 7,
    manifestDigest: sha256Digest(manifestBytes),
    bundleDigest: sha256Digest('bundle'),
    deployments,
    iat,
    exp: iat + 3600,
    ...over,
  };
}

async function setup() {
  const signer = await createDesiredStateSigner(keys.privateKey, keys.publicKey);
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ name: 'agent' }, { write: (l: string) => void logs.push(JSON.parse(l)) });
  const options: VerifyDesiredStateOptions = {
    keys: [signer.publicJwk],
    deviceId: 'press-7',
    certificateThumbprint: thumb,
    lastAdoptedVersion: 6,
    manifest: { digest: sha256Digest(manifestBytes), manifestVersion: 7, deployments, bundleDigest: sha256Digest('bundle') },
    now,
    logger,
  };
  return { signer, logs, options };
}

describe('signed desired state', () => {
  it('verifies a statement for this device, certificate and a newer version', async () => {
    const { signer, options, logs } = await setup();
    const verified = await verifyDesiredState(await signer.sign(claims()), options);
    expect(verified.manifestVersion).toBe(7);
    expect(logs.filter((l) => l.security)).toEqual([]);
  });

  const refusals: [string, (s: Awaited<ReturnType<typeof setup>>) => Promise<[string, VerifyDesiredStateOptions]>, string][] = [
    [
      'a bad signature',
      async ({ signer, options }) => {
        const jws = await signer.sign(claims());
        const [h, p, s] = jws.split('.');
        const flipped = Buffer.from(s!, 'base64url');
        flipped[5] = flipped[5]! ^ 0xff;
        return [`${h}.${p}.${flipped.toString('base64url')}`, options];
      },
      desiredStateRefusals.badSignature,
    ],
    [
      'a payload changed after signing',
      async ({ signer, options }) => {
        const [h, , s] = (await signer.sign(claims())).split('.');
        return [`${h}.${Buffer.from(JSON.stringify(claims({ manifestVersion: 99 }))).toString('base64url')}.${s}`, options];
      },
      desiredStateRefusals.badSignature,
    ],
    [
      'another key with the same kid',
      async ({ signer, options }) => {
        const other = pair();
        const impostor = await createDesiredStateSigner(other.privateKey, other.publicKey);
        const jws = await impostor.sign(claims());
        const [, p, s] = jws.split('.');
        const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: signer.keyId, typ: 'berth-desired-state+jwt' })).toString('base64url');
        return [`${header}.${p}.${s}`, options];
      },
      desiredStateRefusals.badSignature,
    ],
    [
      'an unknown key',
      async ({ options }) => {
        const other = pair();
        return [await (await createDesiredStateSigner(other.privateKey, other.publicKey)).sign(claims()), options];
      },
      desiredStateRefusals.unknownKey,
    ],
    ['another device id', async ({ signer, options }) => [await signer.sign(claims({ sub: 'press-8' })), options], desiredStateRefusals.wrongDevice],
    [
      'another certificate thumbprint',
      async ({ signer, options }) => [await signer.sign(claims({ cnf: { 'x5t#S256': certificateThumbprint(randomBytes(10)) } })), options],
      desiredStateRefusals.wrongCertificate,
    ],
    [
      'a version equal to the adopted one',
      async ({ signer, options }) => [await signer.sign(claims()), { ...options, lastAdoptedVersion: 7 }],
      desiredStateRefusals.versionNotNewer,
    ],
    [
      'a version below the adopted one',
      async ({ signer, options }) => [await signer.sign(claims()), { ...options, lastAdoptedVersion: 9 }],
      desiredStateRefusals.versionNotNewer,
    ],
    ['an expired statement', async ({ signer, options }) => [await signer.sign(claims({ exp: iat - 61 })), options], desiredStateRefusals.expired],
    [
      'a manifest body other than the signed one',
      async ({ signer, options }) => [await signer.sign(claims()), { ...options, manifest: { ...options.manifest, digest: sha256Digest('other') } }],
      desiredStateRefusals.manifestMismatch,
    ],
    [
      'a deployment digest other than the signed one',
      async ({ signer, options }) => [
        await signer.sign(claims()),
        { ...options, manifest: { ...options.manifest, deployments: [{ deploymentId: 'line-monitor', digest: sha256Digest('evil') }] } },
      ],
      desiredStateRefusals.manifestMismatch,
    ],
    ['not a JWS', async ({ options }) => ['not.a.jws', options], desiredStateRefusals.malformed],
    [
      'a JWS of another type',
      async ({ options }) => {
        const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
        return [`${header}.${Buffer.from('{}').toString('base64url')}.`, options];
      },
      desiredStateRefusals.malformed,
    ],
  ];

  for (const [name, make, code] of refusals) {
    it(`refuses ${name} with ${code} and a security event`, async () => {
      const s = await setup();
      const [jws, options] = await make(s);
      await expect(verifyDesiredState(jws, options)).rejects.toMatchObject({ code });
      expect(s.logs.filter((l) => l.security === true && l.event === code)).toHaveLength(1);
    });
  }

  it('accepts a statement within the clock skew after its expiry', async () => {
    const { signer, options } = await setup();
    await expect(verifyDesiredState(await signer.sign(claims({ exp: iat - 30 })), options)).resolves.toMatchObject({ sub: 'press-7' });
  });

  it('refuses to sign with a key that is not P-256', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await expect(createDesiredStateSigner(rsa.privateKey, rsa.publicKey)).rejects.toThrow(/P-256/);
  });
});
