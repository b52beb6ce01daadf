import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa } from '../../trust/authority.js';
import { certificateToPem, fingerprintOf, generateP256, privateKeyToPem } from '../../trust/x509.js';
import { startHarness, type Answer, type Harness } from './harness.js';

/**
 * Admin inputs carrying a key or a certificate are parsed strictly: garbage, a wrong key type, a
 * key not matching its certificate, several PEM blocks, or a field the chosen mode ignores are
 * 422 naming the field, and the CA is left as it was (issue #12, defect 5).
 */
let h: Harness;
let rootKeyPem: string;
beforeAll(async () => {
  h = await startHarness();
  rootKeyPem = readFileSync(h.cp.deps.authority.keyPath(fingerprintOf(h.cp.deps.authority.roots()[0]!)), 'utf8');
});
afterAll(async () => {
  await h?.stop();
});

/** What a refused change must leave alone: the bundle sequence and the trusted roots. */
const caState = () => ({ sequence: h.cp.deps.authority.bundleSequence, roots: h.cp.deps.authority.roots().map((r) => fingerprintOf(r)) });

function expectFieldRefused(answer: Answer, field: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(422);
  expect(answer.headers['content-type']).toContain('application/problem+json');
  expect(answer.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
}

const pkcs8 = (type: 'rsa' | 'ed25519' | 'ec384'): string => {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
};

describe('POST /api/v1/admin/ca/rotations', () => {
  it('refuses a rootKeyPem that is garbage, another key type, several blocks or another key, changing nothing', async () => {
    const before = caState();
    const otherP256 = await privateKeyToPem((await generateP256()).privateKey);
    const refused: [string, unknown][] = [
      ['garbage with newRoot (once silently ignored)', { newRoot: true, rootKeyPem: 'garbage' }],
      ['the right key with newRoot: a field that mode ignores', { newRoot: true, rootKeyPem }],
      ['garbage', { rootKeyPem: 'not a key' }],
      ['a PEM block with a bad body', { rootKeyPem: '-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n' }],
      ['an RSA key', { rootKeyPem: pkcs8('rsa') }],
      ['an Ed25519 key', { rootKeyPem: pkcs8('ed25519') }],
      ['a P-384 key', { rootKeyPem: pkcs8('ec384') }],
      ['a certificate instead of a key', { rootKeyPem: certificateToPem(h.cp.deps.authority.roots()[0]!) }],
      ['the key followed by another block', { rootKeyPem: rootKeyPem + otherP256 }],
      ['the key with trailing text', { rootKeyPem: `${rootKeyPem}\nand some notes` }],
      ["a P-256 key that is not the root's", { rootKeyPem: otherP256 }],
    ];
    for (const [name, body] of refused) {
      const answer = await h.admin('POST', '/api/v1/admin/ca/rotations', body);
      expect.soft(answer.status, name).toBe(422);
      expectFieldRefused(answer, 'rootKeyPem');
    }
    expect(caState()).toEqual(before);
  });

  it('still rotates with the right key, and with newRoot alone', async () => {
    const before = caState();
    expect((await h.admin('POST', '/api/v1/admin/ca/rotations', { rootKeyPem })).status).toBe(201);
    const rotated = await h.admin('POST', '/api/v1/admin/ca/rotations', { newRoot: true });
    expect(rotated.status).toBe(201);
    expect(caState().sequence).toBe(before.sequence + 2);
    expect(caState().roots).toHaveLength(2);
  });
});

describe('POST /api/v1/admin/manufacturers', () => {
  it('takes exactly one CA certificate PEM block and nothing else', async () => {
    const ca = certificateToPem((await createRootCa('maker.test')).certificate);
    const other = certificateToPem((await createRootCa('other.test')).certificate);
    for (const certificate of [`${ca}${other}`, `${ca}trailing words`, `notes first\n${ca}`, await privateKeyToPem((await generateP256()).privateKey)]) {
      expectFieldRefused(await h.admin('POST', '/api/v1/admin/manufacturers', { name: 'maker', certificate }), 'certificate');
    }
    expect((await h.admin('POST', '/api/v1/admin/manufacturers', { name: 'maker', certificate: ca })).status).toBe(201);
  });
});
