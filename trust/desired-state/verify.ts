import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { BerthError } from '../../common/errors.js';
import { securityEvent, silentLogger, type Logger } from '../../common/logger.js';
import { DESIRED_STATE_JWS_TYPE, desiredStateClaimsSchema, type DesiredStateClaims } from './statement.js';

/**
 * Refusal codes, one per reason, so an agent and an operator reading its security log can tell
 * a forged statement from a replayed, misdirected or stale one.
 */
export const desiredStateRefusals = {
  malformed: 'desired_state.malformed',
  unknownKey: 'desired_state.unknown_key',
  badSignature: 'desired_state.bad_signature',
  wrongDevice: 'desired_state.wrong_device',
  wrongCertificate: 'desired_state.wrong_certificate',
  expired: 'desired_state.expired',
  manifestMismatch: 'desired_state.manifest_mismatch',
  versionNotNewer: 'desired_state.version_not_newer',
} as const;

export interface VerifyDesiredStateOptions {
  /** The control plane's desired-state public keys (JWKs with `kid`), pinned by the agent. */
  keys: readonly JWK[];
  deviceId: string;
  /** `x5t#S256` of the device's own current certificate. */
  certificateThumbprint: string;
  /** The highest manifestVersion this device has adopted (0 before the first). */
  lastAdoptedVersion: number;
  /** What arrived in the Margo body: its digest (of the exact bytes), version and deployment digests. */
  manifest: { digest: string; manifestVersion: number; deployments: readonly { deploymentId: string; digest: string }[]; bundleDigest: string | null };
  now?: Date;
  /** Tolerated clock skew for the expiry, seconds (default 60). */
  clockSkewSeconds?: number;
  logger?: Logger;
}

/** Verifies a desired-state statement; throws a BerthError with one of `desiredStateRefusals`. */
export async function verifyDesiredState(jws: string, o: VerifyDesiredStateOptions): Promise<DesiredStateClaims> {
  const logger = o.logger ?? silentLogger;
  const refuse = (code: string, message: string, fields: Record<string, unknown> = {}): never => {
    securityEvent(logger, code, { deviceId: o.deviceId, ...fields });
    throw new BerthError(code, message);
  };
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(jws);
    if (header.alg !== 'ES256' || header.typ !== DESIRED_STATE_JWS_TYPE) throw new Error(`alg ${String(header.alg)}, typ ${String(header.typ)}`);
    kid = header.kid;
  } catch (err) {
    return refuse(desiredStateRefusals.malformed, `the desired-state signature is not a Berth statement: ${(err as Error).message}`);
  }
  const jwk = o.keys.find((k) => k.kid === kid);
  if (!jwk) return refuse(desiredStateRefusals.unknownKey, `the desired state is signed by an unknown key '${kid ?? '(none)'}'`, { kid });
  let payload: Uint8Array;
  try {
    const key = await importJWK(jwk, 'ES256');
    payload = (await compactVerify(jws, key, { algorithms: ['ES256'] })).payload;
  } catch (err) {
    return refuse(desiredStateRefusals.badSignature, `the desired-state signature does not verify: ${(err as Error).message}`, { kid });
  }
  let claims: DesiredStateClaims;
  try {
    claims = desiredStateClaimsSchema.parse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)));
  } catch (err) {
    return refuse(desiredStateRefusals.malformed, `the signed desired state has invalid claims: ${(err as Error).message}`, { kid });
  }
  if (claims.sub !== o.deviceId)
    return refuse(desiredStateRefusals.wrongDevice, `the desired state is for device '${claims.sub}', not '${o.deviceId}'`, { for: claims.sub });
  if (claims.cnf['x5t#S256'] !== o.certificateThumbprint) {
    return refuse(desiredStateRefusals.wrongCertificate, 'the desired state is bound to another certificate', {
      bound: claims.cnf['x5t#S256'],
      own: o.certificateThumbprint,
    });
  }
  const now = Math.floor((o.now ?? new Date()).getTime() / 1000);
  if (now > claims.exp + (o.clockSkewSeconds ?? 60))
    return refuse(desiredStateRefusals.expired, `the desired state expired at ${new Date(claims.exp * 1000).toISOString()}`, { exp: claims.exp });
  const m = o.manifest;
  const sameDeployments =
    m.deployments.length === claims.deployments.length &&
    m.deployments.every((d, i) => d.deploymentId === claims.deployments[i]!.deploymentId && d.digest === claims.deployments[i]!.digest);
  if (m.digest !== claims.manifestDigest || m.manifestVersion !== claims.manifestVersion || m.bundleDigest !== claims.bundleDigest || !sameDeployments) {
    return refuse(desiredStateRefusals.manifestMismatch, 'the manifest received is not the one the control plane signed', {
      signed: claims.manifestDigest,
      received: m.digest,
    });
  }
  if (claims.manifestVersion <= o.lastAdoptedVersion) {
    return refuse(desiredStateRefusals.versionNotNewer, `manifestVersion ${claims.manifestVersion} is not above the adopted ${o.lastAdoptedVersion}`, {
      version: claims.manifestVersion,
      adopted: o.lastAdoptedVersion,
    });
  }
  return claims;
}
