import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKeys, loadOrCreateKeys, rotateSigningKey, SIGNING_KEY_FILE } from '../../orchestrator/desired-state/signing-key.js';
import { acceptEndorsedKeys, endorseKey, KEY_ENDORSEMENT_JWS_TYPE } from '../../trust/desired-state/key-endorsement.js';
import { createDesiredStateSigner } from '../../trust/desired-state/sign.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-key-rotation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function key() {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...pair, signer: await createDesiredStateSigner(pair.privateKey, pair.publicKey) };
}

describe('desired-state key endorsements', () => {
  it('pins a chain of rotations from a pinned key, in whatever order the endorsements come', async () => {
    const [a, b, c] = [await key(), await key(), await key()];
    const ab = await endorseKey(a.privateKey, a.signer.keyId, b.signer.publicJwk);
    const bc = await endorseKey(b.privateKey, b.signer.keyId, c.signer.publicJwk);
    const pinned = await acceptEndorsedKeys([a.signer.publicJwk], [bc, ab]);
    expect(pinned.map((k) => k.kid)).toEqual([a.signer.keyId, b.signer.keyId, c.signer.keyId]);
    // Only public members are pinned.
    expect(Object.keys(pinned[2]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  });

  it('ignores what no pinned key vouched for: another signer, a tampered or mistyped endorsement, a kid that is not the key', async () => {
    const [a, b, mallory] = [await key(), await key(), await key()];
    const pinned = [a.signer.publicJwk];
    const byMallory = await endorseKey(mallory.privateKey, mallory.signer.keyId, b.signer.publicJwk);
    // Claims to come from `a` (its kid) but is signed by mallory.
    const forged = await new CompactSign(new TextEncoder().encode(JSON.stringify({ endorses: mallory.signer.publicJwk, iat: 1 })))
      .setProtectedHeader({ alg: 'ES256', kid: a.signer.keyId, typ: KEY_ENDORSEMENT_JWS_TYPE })
      .sign(mallory.privateKey);
    const good = await endorseKey(a.privateKey, a.signer.keyId, b.signer.publicJwk);
    const [h, p, s] = good.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ endorses: mallory.signer.publicJwk, iat: 1 })).toString('base64url')}.${s}`;
    const mistyped = await new CompactSign(new Uint8Array(Buffer.from(p!, 'base64url')))
      .setProtectedHeader({ alg: 'ES256', kid: a.signer.keyId, typ: 'JWT' })
      .sign(a.privateKey);
    const wrongKid = await endorseKey(a.privateKey, a.signer.keyId, { ...mallory.signer.publicJwk, kid: b.signer.keyId });
    for (const e of [byMallory, forged, tampered, mistyped, wrongKid, 'not a jws']) {
      expect((await acceptEndorsedKeys(pinned, [e])).map((k) => k.kid)).toEqual([a.signer.keyId]);
    }
  });

  it('the control plane rotates on disk: the new key is endorsed by the old, and both are kept for devices that have not followed yet', async () => {
    // A replica looking for a rotation made elsewhere reads only: no key, nothing made.
    expect(await loadKeys(dir)).toBeUndefined();
    expect(existsSync(join(dir, SIGNING_KEY_FILE))).toBe(false);
    const before = await loadOrCreateKeys(dir);
    expect(before.previous).toEqual([]);
    const rotated = await rotateSigningKey(dir);
    expect(rotated.signer.keyId).not.toBe(before.signer.keyId);
    const reloaded = await loadOrCreateKeys(dir);
    expect(reloaded.signer.keyId).toBe(rotated.signer.keyId);
    expect(reloaded.previous.map((k) => k.kid)).toEqual([before.signer.keyId]);
    const followed = await acceptEndorsedKeys([before.signer.publicJwk], reloaded.endorsements);
    expect(followed.map((k) => k.kid)).toEqual([before.signer.keyId, rotated.signer.keyId]);
    // A second rotation: a device that pinned only the first key still gets to the third.
    const third = await rotateSigningKey(dir);
    const again = await acceptEndorsedKeys([before.signer.publicJwk], (await loadOrCreateKeys(dir)).endorsements);
    expect(again.map((k) => k.kid)).toEqual([before.signer.keyId, rotated.signer.keyId, third.signer.keyId]);
  });
});
