import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BerthError } from '../../common/errors.js';
import { createIntermediateCa, createRootCa, type KeyedCertificate } from '../../trust/authority.js';
import { issueCrl, type RevokedEntry } from '../../trust/revocation/crl.js';
import { formatRevocationDocument } from '../../trust/revocation/document.js';
import { RevocationListHolder } from '../../trust/revocation/holder.js';
import { RevocationList } from '../../trust/revocation/list.js';
import { issueWorkloadToken, type DeviceSigner } from '../../trust/workload/token.js';
import { verifyWorkloadToken } from '../../trust/workload/verify.js';
import { ECDSA_SHA256, certificateToPem, generateP256, x509 } from '../../trust/x509.js';
import { suiteTempDir } from '../support/tmp.js';
import { refusal, testDevice } from '../support/device-signer.js';

const TD = 'factory.example';
const HOUR = 3_600_000;
const request = { vendor: 'acme', app: 'sensor', instance: 'i-1', audience: 'historian' };
const device = (issuer: KeyedCertificate, deviceId: string): Promise<DeviceSigner> => testDevice(issuer, TD, deviceId);

const revokedEntry = (d: DeviceSigner): RevokedEntry => ({ serial: d.chain[0]!.serialNumber, revokedAt: new Date() });

describe('a signed revocation list (X.509 CRLs from the fleet issuing CAs)', () => {
  let root: KeyedCertificate;
  let issuing: KeyedCertificate;
  let plc: DeviceSigner;
  let other: DeviceSigner;
  let stranger: KeyedCertificate;

  /** The published document: the issuing CA and its CRL listing `revoked`. */
  async function published(
    revoked: DeviceSigner[],
    o: { number?: number; issuer?: KeyedCertificate; thisUpdate?: Date; nextUpdate?: Date } = {},
  ): Promise<string> {
    const issuer = o.issuer ?? issuing;
    const thisUpdate = o.thisUpdate ?? new Date();
    const crl = await issueCrl(issuer, revoked.map(revokedEntry), {
      number: o.number ?? 1,
      thisUpdate,
      nextUpdate: o.nextUpdate ?? new Date(thisUpdate.getTime() + 24 * HOUR),
    });
    return formatRevocationDocument([{ issuer: issuer.certificate, crl }]);
  }

  const load = (document: string, now?: Date) => RevocationList.load(document, { roots: [root.certificate], ...(now ? { now } : {}) });
  const verify = (token: string, revocations?: RevocationList | RevocationListHolder, now?: Date) =>
    verifyWorkloadToken(token, {
      roots: [root.certificate],
      trustDomain: TD,
      audience: 'historian',
      ...(revocations ? { revocations } : {}),
      ...(now ? { now } : {}),
    });

  beforeAll(async () => {
    root = await createRootCa(TD);
    issuing = await createIntermediateCa(root, TD);
    plc = await device(issuing, 'line-3/plc-7');
    other = await device(issuing, 'line-4/plc-1');
    stranger = await createIntermediateCa(await createRootCa(TD), TD);
  });

  it("refuses a revoked device's token with the list, accepts it without, and accepts other devices", async () => {
    const list = await load(await published([plc]));
    const token = await issueWorkloadToken(plc, request);
    expect((await verify(token)).deviceId).toBe('line-3/plc-7');
    const err = await verify(token, list).catch((e: BerthError) => e);
    expect(err).toMatchObject({ code: 'token.revoked' });
    expect((err as Error).message).toMatch(/device line-3\/plc-7 is revoked: its certificate [0-9a-f]+ is on CRL number 1/);
    expect((await verify(await issueWorkloadToken(other, request), list)).deviceId).toBe('line-4/plc-1');
  });

  it('refuses a list signed by a CA outside the trust bundle, with its own code', async () => {
    expect(await refusal(load(await published([], { issuer: stranger })))).toBe('revocations.untrusted');
  });

  it('refuses a list whose CRL claims the fleet CA but was signed with another key', async () => {
    // A CA certificate with the same subject name as the fleet's issuing CA, under a stranger root.
    const strangerRoot = await createRootCa(TD);
    const keys = await generateP256();
    const lookalike = await x509.X509CertificateGenerator.create({
      serialNumber: '01',
      subject: issuing.certificate.subject,
      issuer: strangerRoot.certificate.subjectName,
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + HOUR),
      signingAlgorithm: ECDSA_SHA256,
      publicKey: keys.publicKey,
      signingKey: strangerRoot.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.keyCertSign, true),
      ],
    });
    const crl = await issueCrl({ certificate: lookalike, keys }, [], { number: 9, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + HOUR) });
    // Shipped next to the real issuing CA's certificate: the signature does not match it.
    const withReal = formatRevocationDocument([{ issuer: issuing.certificate, crl }]);
    expect(await refusal(load(withReal))).toBe('revocations.untrusted');
    // Shipped with the look-alike: it does not chain to the bundle.
    expect(await refusal(load(formatRevocationDocument([{ issuer: lookalike, crl }])))).toBe('revocations.untrusted');
  });

  it('refuses a tampered list: a byte changed inside the signed CRL, or garbage', async () => {
    const document = await published([plc, other]);
    const list = await load(document);
    expect(list.issuers[0]!.serials.size).toBe(2);
    const crlBlock = /-----BEGIN X509 CRL-----\n([\s\S]+?)\n-----END X509 CRL-----/.exec(document)!;
    const der = Buffer.from(crlBlock[1]!.replace(/\s/g, ''), 'base64');
    // The last byte of the first revoked serial (inside tbsCertList): still parses, no longer verifies.
    const serial = Buffer.from(plc.chain[0]!.serialNumber, 'hex');
    const at = der.indexOf(serial);
    expect(at).toBeGreaterThan(0);
    der[at + serial.length - 1]! ^= 0x01;
    const tampered = document.replace(crlBlock[1]!, der.toString('base64').replace(/(.{64})/g, '$1\n'));
    expect(await refusal(load(tampered))).toBe('revocations.untrusted');
    expect(await refusal(load('not a list'))).toBe('revocations.malformed');
    expect(await refusal(load(certificateToPem(issuing.certificate)))).toBe('revocations.malformed');
    expect(await refusal(load('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'))).toBe('revocations.malformed');
    expect(await refusal(load('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'))).toBe('revocations.malformed');
    expect(await refusal(load('x'.repeat(5 * 1024 * 1024)))).toBe('revocations.malformed');
  });

  it('refuses an expired list when loaded, and a loaded list once it expires (secure by default)', async () => {
    const old = new Date(Date.now() - 48 * HOUR);
    expect(await refusal(load(await published([], { thisUpdate: old, nextUpdate: new Date(old.getTime() + 24 * HOUR) })))).toBe('revocations.expired');
    const list = await load(await published([plc], { nextUpdate: new Date(Date.now() + HOUR) }));
    const later = new Date(Date.now() + 2 * HOUR);
    const token = await issueWorkloadToken(other, { ...request, now: new Date(later.getTime() - 60_000) });
    // The token itself is fine at `later`; the list is not, so the answer is not "not revoked".
    expect((await verify(token, undefined, later)).deviceId).toBe('line-4/plc-1');
    expect(await refusal(verify(token, list, later))).toBe('revocations.expired');
  });

  it('refuses an older list than the one held, and a different list with the same number', async () => {
    const holder = new RevocationListHolder({ roots: [root.certificate] });
    expect(await refusal(verify(await issueWorkloadToken(other, request), holder))).toBe('revocations.none');
    const first = await published([], { number: 1 });
    const second = await published([plc], { number: 2 });
    await holder.update(first);
    await holder.update(second);
    expect(await refusal(holder.update(first))).toBe('revocations.rollback');
    expect(await refusal(holder.update(await published([], { number: 2 })))).toBe('revocations.rollback');
    await holder.update(second); // the same list again is fine
    expect(holder.current!.number).toBe(2);
    expect(await refusal(verify(await issueWorkloadToken(plc, request), holder))).toBe('token.revoked');
  });

  it("refuses a token whose certificate's CA has no CRL in the list (retired CA, or a list older than a rotation)", async () => {
    const next = await createIntermediateCa(root, TD);
    const renewed = await device(next, 'line-3/plc-7');
    const list = await load(await published([]));
    expect(await refusal(verify(await issueWorkloadToken(renewed, request), list))).toBe('revocations.issuer_not_covered');
    const both = await load(
      formatRevocationDocument([
        {
          issuer: issuing.certificate,
          crl: await issueCrl(issuing, [revokedEntry(plc)], { number: 3, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + HOUR) }),
        },
        { issuer: next.certificate, crl: await issueCrl(next, [], { number: 3, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + HOUR) }) },
      ]),
    );
    expect((await verify(await issueWorkloadToken(renewed, request), both)).deviceId).toBe('line-3/plc-7');
    expect(await refusal(verify(await issueWorkloadToken(plc, request), both))).toBe('token.revoked');
  });

  it('refuses CRLs without a number, without nextUpdate, or with an unknown critical extension', async () => {
    const bare = (extensions: x509.Extension[], nextUpdate?: Date) =>
      x509.X509CrlGenerator.create({
        issuer: issuing.certificate.subjectName,
        thisUpdate: new Date(),
        ...(nextUpdate ? { nextUpdate } : {}),
        signingAlgorithm: ECDSA_SHA256,
        signingKey: issuing.keys.privateKey,
        extensions,
      });
    const doc = async (crl: Promise<x509.X509Crl>) => formatRevocationDocument([{ issuer: issuing.certificate, crl: await crl }]);
    const soon = new Date(Date.now() + HOUR);
    expect(await refusal(load(await doc(bare([], soon))))).toBe('revocations.malformed');
    const numbered = (await issueCrl(issuing, [], { number: 1, thisUpdate: new Date(), nextUpdate: soon })).extensions;
    expect(await refusal(load(await doc(bare(numbered))))).toBe('revocations.malformed');
    expect(await refusal(load(await doc(bare([...numbered, new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([5, 0]))], soon))))).toBe(
      'revocations.malformed',
    );
    expect((await load(await doc(bare(numbered, soon)))).number).toBe(1);
  });

  it('is a standard CRL: openssl verify -crl_check refuses the revoked certificate and accepts the other', async () => {
    const dir = suiteTempDir('revocation-openssl');
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const args = (leaf: DeviceSigner, crls: string) => [
      'verify',
      '-crl_check',
      '-CAfile',
      file('root.pem', certificateToPem(root.certificate)),
      '-untrusted',
      file('issuing.pem', certificateToPem(issuing.certificate)),
      '-CRLfile',
      crls,
      file(`${leaf.deviceId.replace(/\//g, '_')}.pem`, certificateToPem(leaf.chain[0]!)),
    ];
    const crls = file('revocations.pem', await published([plc]));
    const run = (a: string[]) =>
      promisify(execFile)('openssl', a).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    const revoked = await run(args(plc, crls));
    expect(revoked.code).not.toBe(0);
    expect(revoked.out).toMatch(/certificate revoked/);
    const fine = await run(args(other, crls));
    expect(fine).toMatchObject({ code: 0 });
    expect(fine.out).toMatch(/OK/);
  });
});
