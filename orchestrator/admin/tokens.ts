import { randomBytes } from 'node:crypto';
import { BerthError } from '../../common/errors.js';
import { securityEvent, type Logger } from '../../common/logger.js';
import { isDeviceId } from '../../trust/spiffe.js';
import { refuseNestedId } from '../onboarding/device-id-claim.js';
import { hashSecret, isRole } from '../http/operator-auth.js';
import * as tokens from '../store/tokens.js';
import type { Queryable } from '../store/store.js';

/**
 * A fresh secret: `berth_` and 32 random bytes, base64url. Shown once; only its hash is kept. The
 * prefix lets secret scanners recognise a leaked token, and means a token never starts with `-`,
 * which command-line parsers take for an option (`--token -Xy…` was refused about once in 64).
 */
function newSecret(): string {
  return `berth_${randomBytes(32).toString('base64url')}`;
}

export async function createOperatorToken(
  q: Queryable,
  logger: Logger,
  input: { name: string; role: string; by: string },
): Promise<{ id: string; token: string; role: string }> {
  if (!isRole(input.role)) throw new BerthError('token.bad_role', `role '${input.role}' is not one of admin, operator, vendor:<name>`);
  if (!/^[\w .@-]{1,100}$/.test(input.name)) throw new BerthError('token.bad_name', 'token name must be 1-100 letters, digits, spaces, or . @ - _');
  const id = `op_${randomBytes(6).toString('hex')}`;
  const token = newSecret();
  await tokens.insertOperatorToken(q, { id, secretSha256: hashSecret(token), name: input.name, role: input.role });
  securityEvent(logger, 'operator.token_created', { id, name: input.name, role: input.role, by: input.by });
  return { id, token, role: input.role };
}

export interface EnrollmentTokenInput {
  deviceId?: string | undefined;
  labels?: Record<string, string> | undefined;
  ttlSeconds: number;
  by: string;
}

export async function createEnrollmentToken(
  q: Queryable,
  logger: Logger,
  input: EnrollmentTokenInput,
): Promise<{ id: string; token: string; expiresAt: string; deviceId: string | null }> {
  if (input.deviceId !== undefined && !isDeviceId(input.deviceId)) throw new BerthError('token.bad_device_id', `'${input.deviceId}' is not a valid device id`);
  if (!Number.isInteger(input.ttlSeconds) || input.ttlSeconds < 1 || input.ttlSeconds > 30 * 86400) {
    throw new BerthError('token.bad_ttl', 'ttlSeconds must be a whole number from 1 to 2592000 (30 days)');
  }
  const id = `enr_${randomBytes(6).toString('hex')}`;
  const token = newSecret();
  const expiresAt = new Date(Date.now() + input.ttlSeconds * 1000);
  if (input.deviceId !== undefined) await refuseNestedId(q, input.deviceId);
  await tokens.insertEnrollmentToken(q, {
    id,
    secretSha256: hashSecret(token),
    deviceId: input.deviceId ?? null,
    labels: input.labels ?? {},
    expiresAt,
    createdBy: input.by,
  });
  securityEvent(logger, 'onboarding.token_created', { id, deviceId: input.deviceId, expiresAt: expiresAt.toISOString(), by: input.by });
  return { id, token, expiresAt: expiresAt.toISOString(), deviceId: input.deviceId ?? null };
}
