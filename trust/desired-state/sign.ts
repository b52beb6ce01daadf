import { CompactSign, exportJWK, calculateJwkThumbprint, type JWK } from 'jose';
import type { KeyObject } from 'node:crypto';
import { DESIRED_STATE_JWS_TYPE, desiredStateClaimsSchema, type DesiredStateClaims } from './statement.js';

/** The control plane's desired-state signing key (ECDSA P-256), never its TLS key. */
export interface DesiredStateSigner {
  readonly keyId: string;
  readonly publicJwk: JWK;
  sign(claims: DesiredStateClaims): Promise<string>;
}

export async function createDesiredStateSigner(privateKey: KeyObject, publicKey: KeyObject): Promise<DesiredStateSigner> {
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('the desired-state signing key must be ECDSA P-256');
  }
  const jwk = await exportJWK(publicKey);
  const keyId = await calculateJwkThumbprint(jwk);
  const publicJwk: JWK = { ...jwk, kid: keyId, alg: 'ES256', use: 'sig' };
  const encoder = new TextEncoder();
  return {
    keyId,
    publicJwk,
    async sign(claims) {
      // Validate our own output: a malformed statement would be refused by every agent anyway.
      const checked = desiredStateClaimsSchema.parse(claims);
      return new CompactSign(encoder.encode(JSON.stringify(checked)))
        .setProtectedHeader({ alg: 'ES256', kid: keyId, typ: DESIRED_STATE_JWS_TYPE })
        .sign(privateKey);
    },
  };
}
