import 'reflect-metadata';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { suiteTempDir } from '../support/tmp.js';
import { BerthError } from '../../common/errors.js';
import { createIntermediateCa, createRootCa, type KeyedCertificate } from '../../trust/authority.js';
import { parseWorkloadSpiffeId, workloadSpiffeId } from '../../trust/workload/spiffe-id.js';
import { issueWorkloadToken, type DeviceSigner } from '../../trust/workload/token.js';
import { verifyWorkloadToken } from '../../trust/workload/verify.js';
import { refusal, testDevice } from '../support/device-signer.js';

const TD = 'factory.example';
const HOUR = 3_600_000;
const device = (issuer: KeyedCertificate, deviceId: string, lifetimeMs = 24 * HOUR): Promise<DeviceSigner> => testDevice(issuer, TD, deviceId, lifetimeMs);

describe('workload identity tokens', () => {
  let root: KeyedCertificate;
  let plc: DeviceSigner;
  let other: DeviceSigner;
  let strangerDevice: DeviceSigner;
  const request = { vendor: 'acme', app: 'sensor', instance: 'i-1', audience: 'historian' };

  beforeAll(async () => {
    root = await createRootCa(TD);
    const issuing = await createIntermediateCa(root, TD);
    plc = await device(issuing, 'line-3/plc-7');
    other = await device(issuing, 'line-4/plc-1');
    const strangerRoot = await createRootCa(TD);
    strangerDevice = await device(await createIntermediateCa(strangerRoot, TD), 'line-3/plc-7');
  });

  const verify = (token: string, extra: Partial<Parameters<typeof verifyWorkloadToken>[1]> = {}) =>
    verifyWorkloadToken(token, { roots: [root.certificate], trustDomain: TD, audience: 'historian', ...extra });

  it('verifies offline with only the fleet root: workload, device, vendor, app, instance', async () => {
    const token = await issueWorkloadToken(plc, request);
    const w = await verify(token);
    expect(w).toMatchObject({ deviceId: 'line-3/plc-7', vendor: 'acme', app: 'sensor', instance: 'i-1', audience: 'historian' });
    expect(w.spiffeId).toBe('spiffe://factory.example/device/line-3/plc-7/workload/acme/sensor');
    expect(w.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(300_000);
  });

  it('refuses another audience', async () => {
    expect(await refusal(verify(await issueWorkloadToken(plc, request), { audience: 'mes' }))).toBe('token.audience');
  });

  it('refuses an expired token', async () => {
    const token = await issueWorkloadToken(plc, { ...request, ttlSeconds: 60 });
    expect(await refusal(verify(token, { now: new Date(Date.now() + 10 * 60_000) }))).toBe('token.expired');
  });

  it('never issues a token that outlives the device certificate, nor one from an expired certificate', async () => {
    const brief = await device(await createIntermediateCa(root, TD), 'brief', 120_000);
    const token = await issueWorkloadToken(brief, { ...request, ttlSeconds: 3600 });
    const w = await verify(token, { roots: [root.certificate] });
    expect(w.expiresAt.getTime()).toBeLessThanOrEqual(brief.chain[0]!.notAfter.getTime());
    expect(await refusal(issueWorkloadToken(brief, { ...request, now: new Date(Date.now() + 3 * 60_000) }))).toBe('identity.certificate_expired');
  });

  it('refuses a token from a device of another fleet', async () => {
    expect(await refusal(verify(await issueWorkloadToken(strangerDevice, request)))).toBe('token.untrusted_chain');
  });

  /** A token built by hand: `chainOf`'s certificates in x5c, signed by `keyOf`'s key, about `subjectDevice`'s workload. */
  const forge = (chainOf: DeviceSigner, keyOf: DeviceSigner, subjectDevice: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', x5c: chainOf.chain.map((c) => Buffer.from(c.rawData).toString('base64')) })
      .setIssuer(`spiffe://${TD}/device/${chainOf.deviceId}`)
      .setSubject(workloadSpiffeId({ trustDomain: TD, deviceId: subjectDevice, vendor: 'acme', app: 'sensor' }))
      .setAudience('historian')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(keyOf.privateKey);

  it("refuses a device claiming another device's workload", async () => {
    expect(await refusal(verify(await forge(other, other, 'line-3/plc-7')))).toBe('token.subject_mismatch');
  });

  it('refuses a token signed by a key other than the certificate in x5c', async () => {
    expect(await refusal(verify(await forge(plc, other, 'line-3/plc-7')))).toBe('token.bad_signature');
  });

  it('refuses a revoked device', async () => {
    const token = await issueWorkloadToken(plc, request);
    const revoked = new Set(['line-3/plc-7']);
    const revocations = {
      check: (_cert: unknown, id: string) => {
        if (revoked.has(id)) throw new BerthError('token.revoked', `device ${id} is revoked`);
      },
    };
    expect(await refusal(verify(token, { revocations }))).toBe('token.revoked');
  });

  it('refuses other algorithms, missing chains and garbage, each by name', async () => {
    const token = await issueWorkloadToken(plc, request);
    const [h, p, s] = token.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const reheader = (patch: object) => `${Buffer.from(JSON.stringify({ ...header, ...patch })).toString('base64url')}.${p}.${s}`;
    expect(await refusal(verify(reheader({ alg: 'none' })))).toBe('token.bad_algorithm');
    expect(await refusal(verify(reheader({ alg: 'HS256' })))).toBe('token.bad_algorithm');
    expect(await refusal(verify(reheader({ x5c: undefined })))).toBe('token.no_chain');
    expect(await refusal(verify(reheader({ x5c: ['bm90IGEgY2VydA=='] })))).toBe('token.bad_chain');
    expect(await refusal(verify('not.a.jwt.at.all'))).toBe('token.malformed');
    expect(await refusal(verify('x'.repeat(20_000)))).toBe('token.malformed');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), aud: 'historian', sub: 'spiffe://x/y' })).toString('base64url')}.${s}`;
    expect(await refusal(verify(tampered))).toBe('token.bad_signature');
  });

  it('refuses nonsense requests when issuing', async () => {
    expect(await refusal(issueWorkloadToken(plc, { ...request, ttlSeconds: 0 }))).toBe('identity.bad_ttl');
    expect(await refusal(issueWorkloadToken(plc, { ...request, audience: '' }))).toBe('identity.bad_audience');
    expect(await refusal(issueWorkloadToken(plc, { ...request, vendor: '../x' }))).toBe('identity.bad_name');
  });
});

describe('workload SPIFFE IDs', () => {
  it('round-trip, also for hierarchical device ids that contain "workload"', () => {
    const w = { trustDomain: TD, deviceId: 'plant/workload/gw-1', vendor: 'acme', app: 'sensor' };
    expect(parseWorkloadSpiffeId(workloadSpiffeId(w))).toEqual(w);
  });

  it('reject anything else', () => {
    for (const id of [
      'spiffe://factory.example/device/d1',
      'spiffe://factory.example/device/d1/workload/acme',
      'spiffe://factory.example/device/d1/workload/acme/a/b',
      'https://x/device/d/workload/a/b',
      'spiffe://factory.example/device/../workload/a/b',
    ]) {
      expect(parseWorkloadSpiffeId(id)).toBeUndefined();
    }
  });
});

describe('berth identity verify', () => {
  it('verifies a token against a PEM bundle, and refuses another audience with the reason', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { projectRoot } = await import('../../common/paths.js');
    const { certificateToPem } = await import('../../trust/x509.js');
    const root = await createRootCa(TD);
    const signer = await device(await createIntermediateCa(root, TD), 'cli-device');
    const token = await issueWorkloadToken(signer, { vendor: 'acme', app: 'sensor', instance: 'i', audience: 'historian' });
    const bundle = join(suiteTempDir('identity-cli'), 'bundle.pem');
    writeFileSync(bundle, certificateToPem(root.certificate));
    const berth = (args: string[]) =>
      promisify(execFile)(process.execPath, [
        join(projectRoot(), 'bin', 'berth.js'),
        'identity',
        'verify',
        token,
        '--bundle',
        bundle,
        '--trust-domain',
        TD,
        ...args,
      ]).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const ok = await berth(['--audience', 'historian']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ deviceId: 'cli-device', vendor: 'acme', app: 'sensor' });
    const wrong = await berth(['--audience', 'mes']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/workload token refused: it is not for audience "mes"/);
    const revoked = await berth(['--audience', 'historian', '--revoked', 'cli-device']);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(/device cli-device is revoked/);
  });
});
