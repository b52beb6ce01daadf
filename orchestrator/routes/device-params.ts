import { z } from 'zod';
import { badParameter } from '../http/path-params.js';
import { DIGEST_PATTERN } from '../../wire/margo/common.js';
import { DEPLOYMENT_ID_PATTERN, isDeviceId } from '../../wire/ids.js';

/** Path parameters of the device API, checked before anything reads the store (http/path-params.ts). */

export function deviceIdParam(value: string | undefined): string {
  if (!isDeviceId(value)) throw badParameter('deviceId', 'not a Margo device id');
  return value;
}

export function deploymentIdParam(value: string | undefined): string {
  if (!value || !DEPLOYMENT_ID_PATTERN.test(value)) throw badParameter('deploymentId', 'not a deployment id');
  return value;
}

export function digestParam(value: string | undefined): string {
  if (!value || !DIGEST_PATTERN.test(value)) throw badParameter('digest', 'not a digest (sha256:<64 lowercase hex>)');
  return value;
}

/** `?wait=<seconds>` for a long-poll: whole seconds, 0 to `max` (also what the OpenAPI document shows). */
export const waitSeconds = (max: number) =>
  z
    .string()
    .regex(/^\d{1,4}$/)
    .refine((v) => Number(v) <= max)
    .describe(`Long-poll: with If-None-Match, wait up to this many seconds (0-${max}) for the desired state to change`);

export function waitParam(value: string | undefined, max: number): number {
  if (value === undefined) return 0;
  if (!waitSeconds(max).safeParse(value).success) throw badParameter('wait', `whole seconds from 0 to ${max}`);
  return Number(value);
}
