import { calculateJwkThumbprint, CompactSign, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';

/**
 * Rotating the control plane's desired-state key without re-onboarding the fleet: the key being
 * retired signs the next one (an endorsement), and a device that pinned the old key accepts the
 * new one only through such a signature. Whoever sits on the channel (a TLS-inspecting proxy,
 * a replica's disk) cannot slip in a key of their own: they would need a pinned private key.
 * It is for routine rotation; it does not help after a key is stolen (the thief can endorse too).
 */
export const KEY_ENDORSEMENT_JWS_TYPE = 'berth-key-endorsement+jws';

const publicJwkSchema = z.looseObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  kid: z.string().min(1).max(128),
  x: z.string().max(64),
  y: z.string().max(64),
});
const endorsementSchema = z.strictObject({ endorses: publicJwkSchema, iat: z.number().int() });

/** The retiring key (`signingKey`, id `keyId`) vouches for `next`. */
export async function endorseKey(signingKey: KeyObject, keyId: string, next: JWK, now = Date.now()): Promise<string> {
  const payload = { endorses: publicPart(next), iat: Math.floor(now / 1000) };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', kid: keyId, typ: KEY_ENDORSEMENT_JWS_TYPE })
    .sign(signingKey);
}

/**
 * The pinned keys plus every offered key that a pinned key (or a key accepted that way, in
 * turn) endorsed. An endorsement that does not verify, names an unpinned signer, or endorses a
 * key whose id is not its thumbprint is ignored. Returns the pinned list unchanged when there is
 * nothing new; at most `max` keys, newest kept.
 */
export async function acceptEndorsedKeys(pinned: readonly JWK[], endorsements: readonly string[], max = 8): Promise<JWK[]> {
  const accepted = [...pinned];
  const pending = new Set(endorsements.slice(0, 32));
  for (let progress = true; progress && pending.size > 0;) {
    progress = false;
    for (const jws of pending) {
      const next = await endorsedBy(jws, accepted);
      if (next === 'unknown-signer') continue;
      pending.delete(jws);
      if (next && !accepted.some((k) => k.kid === next.kid)) {
        accepted.push(next);
        progress = true;
      }
    }
  }
  return accepted.slice(-max);
}

/** The key `jws` endorses if a key of `signers` signed it; `undefined` if it is no valid endorsement. */
async function endorsedBy(jws: string, signers: readonly JWK[]): Promise<JWK | undefined | 'unknown-signer'> {
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(jws);
    if (header.alg !== 'ES256' || header.typ !== KEY_ENDORSEMENT_JWS_TYPE) return undefined;
    kid = header.kid;
  } catch {
    return undefined;
  }
  const signer = signers.find((k) => k.kid === kid);
  if (!signer) return 'unknown-signer';
  try {
    const { payload } = await compactVerify(jws, await importJWK({ ...signer, alg: 'ES256' }, 'ES256'), { algorithms: ['ES256'] });
    const { endorses } = endorsementSchema.parse(JSON.parse(new TextDecoder().decode(payload)));
    const key = publicPart(endorses as JWK);
    if ((await calculateJwkThumbprint(key)) !== key.kid) return undefined;
    return key;
  } catch {
    return undefined;
  }
}

/** Only what verifies: never a private member, whatever the input carried. */
function publicPart(k: JWK): JWK {
  return { kty: k.kty, crv: k.crv, x: k.x, y: k.y, kid: k.kid, alg: 'ES256', use: 'sig' } as JWK;
}
