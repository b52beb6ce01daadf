import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../../runtime/agent/enroll.js';
import { privateKeyToPem, x509 } from '../../trust/x509.js';
import type { KeyedCertificate as Keyed } from '../../trust/authority.js';
import { startHarness, type Harness } from '../orchestrator/harness.js';
import { CA_USAGE, makeCert } from '../support/bad-chains.js';

let h: Harness;
let work: string;
let n = 0;
beforeAll(async () => {
  h = await startHarness();
  work = mkdtempSync(join(tmpdir(), 'berth-factory-path-'));
});
afterAll(async () => {
  await h?.stop();
  rmSync(work, { recursive: true, force: true });
});

const F = x509.KeyUsageFlags;

async function onboardWith(leaf: Keyed, chain: x509.X509Certificate[]) {
  const credential = {
    kind: 'factory-certificate' as const,
    certificatesPem: [leaf.certificate, ...chain].map((c) => c.toString('pem')),
    keyPem: await privateKeyToPem(leaf.keys.privateKey),
  };
  return enroll({ url: h.cp.url, ca: h.ca, dir: join(work, `d${n++}`), credential });
}

describe('factory (IDevID) onboarding validates the manufacturer chain for its purpose', () => {
  it('accepts a plain IDevID and refuses an IDevID used as a CA, one for another purpose, and a chain past pathLen', async () => {
    const manufacturerCa = await makeCert('self', { subject: 'CN=acme device CA', ca: true, pathLength: 0, keyUsage: CA_USAGE });
    expect((await h.admin('POST', '/api/v1/admin/manufacturers', { name: 'acme', certificate: manufacturerCa.certificate.toString('pem') })).status).toBe(201);
    const idevid = (issuer: Keyed, serial: string, eku?: string[]) =>
      makeCert(issuer, { subject: `CN=acme controller, 2.5.4.5=${serial}`, keyUsage: F.digitalSignature, ...(eku ? { eku } : {}) });

    const genuine = await idevid(manufacturerCa, 'SN-1');
    await expect(onboardWith(genuine, [])).resolves.toMatchObject({ deviceId: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const forged = await idevid(genuine, 'SN-2');
    await expect(onboardWith(forged, [genuine.certificate])).rejects.toMatchObject({
      code: 'onboarding.factory_untrusted',
      message: expect.stringContaining('chain.not_a_ca'),
    });

    const codeSigning = await idevid(manufacturerCa, 'SN-3', [x509.ExtendedKeyUsage.codeSigning]);
    await expect(onboardWith(codeSigning, [])).rejects.toMatchObject({
      code: 'onboarding.factory_untrusted',
      message: expect.stringContaining('chain.wrong_purpose'),
    });

    const subCa = await makeCert(manufacturerCa, { subject: 'CN=acme line CA', ca: true, keyUsage: CA_USAGE });
    const tooDeep = await idevid(subCa, 'SN-4');
    await expect(onboardWith(tooDeep, [subCa.certificate])).rejects.toMatchObject({
      code: 'onboarding.factory_untrusted',
      message: expect.stringContaining('chain.path_length'),
    });
  });
});
