import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { BerthError } from '../../common/errors.js';
import { deviceSpiffeId } from '../spiffe.js';
import type { CryptoKey, x509 } from '../x509.js';
import { workloadSpiffeId } from './spiffe-id.js';

/** Everything a device needs to vouch for its workloads: its key and its certificate chain. */
export interface DeviceSigner {
  trustDomain: string;
  deviceId: string;
  privateKey: CryptoKey;
  /** The device certificate first, then the issuing CA(s) up to (not including) the root. */
  chain: x509.X509Certificate[];
}

export interface WorkloadTokenRequest {
  vendor: string;
  app: string;
  instance: string;
  audience: string;
  /** Seconds; short by default, since a token cannot be revoked before it expires. */
  ttlSeconds?: number;
  now?: Date;
}

export const DEFAULT_TOKEN_TTL_SECONDS = 300;
export const MAX_TOKEN_TTL_SECONDS = 3600;

/**
 * A JWT (ES256) that says "this workload runs on this device": subject the workload's SPIFFE ID,
 * issuer the device's, signed with the device key, with the device certificate chain in `x5c` so
 * anyone holding the fleet's trust bundle can verify it offline.
 */
export async function issueWorkloadToken(device: DeviceSigner, request: WorkloadTokenRequest): Promise<string> {
  const ttl = request.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS)
    throw new BerthError('identity.bad_ttl', `token lifetime must be 1 to ${MAX_TOKEN_TTL_SECONDS} seconds`);
  if (!request.audience || request.audience.length > 512) throw new BerthError('identity.bad_audience', 'the audience must be 1 to 512 characters');
  const leaf = device.chain[0];
  if (!leaf) throw new BerthError('identity.no_certificate', 'the device has no certificate to sign workload tokens with');
  const now = request.now ?? new Date();
  if (now > leaf.notAfter) throw new BerthError('identity.certificate_expired', 'the device certificate has expired; renew it before issuing tokens');
  const iat = Math.floor(now.getTime() / 1000);
  // Never outlive the certificate that vouches for the token.
  const exp = Math.min(iat + ttl, Math.floor(leaf.notAfter.getTime() / 1000));
  return new SignJWT({ 'berth:instance': request.instance })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: device.chain.map((c) => Buffer.from(c.rawData).toString('base64')) })
    .setIssuer(deviceSpiffeId(device.trustDomain, device.deviceId))
    .setSubject(workloadSpiffeId({ trustDomain: device.trustDomain, deviceId: device.deviceId, vendor: request.vendor, app: request.app }))
    .setAudience(request.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(device.privateKey);
}
