import { BerthError } from '../../common/errors.js';
import { HttpProblem } from '../http/problem.js';

/**
 * How a failed admission becomes an answer. The problem's `code` is the reason's own stable
 * code (`signing.untrusted-key`, `oci.digest-mismatch`, …, listed in docs/admission.md) and
 * `errors[]` names the request field whose artifact was refused. What the artifact is or how it
 * is signed is the vendor's problem (422); a registry that cannot be reached or does not answer
 * in time is not (502/504, retryable), and neither is ever a 500.
 */
const REGISTRY_UNAVAILABLE = new Set([
  'oci.connection',
  'oci.tls',
  'oci.truncated',
  'oci.registry-error',
  'oci.bad-response',
  'oci.unauthorized',
  'admission.mirror',
]);

/**
 * The refusals admissionRefusal makes of a registry rather than of the artifact, for the OpenAPI
 * declaration of every operation that fetches or re-checks an artifact (admission, deployment,
 * rollout, rollback).
 */
export const REGISTRY_PROBLEMS: Record<number, string> = {
  502: 'The registry could not be used: unreachable, refused TLS or credentials, closed early, or answered an error (oci.*, admission.mirror); `retryable` says whether to try again',
  504: 'The registry did not answer in time (oci.timeout); retryable',
};

export function admissionRefusal(err: unknown, field: string): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (!(err instanceof BerthError)) throw err;
  const errors = [{ field, message: err.message }];
  if (err.code === 'oci.timeout') {
    return new HttpProblem(504, err.code, 'The registry did not answer in time', {
      detail: err.message,
      errors,
      retryable: true,
      backoffStrategy: 'exponential',
    });
  }
  if (REGISTRY_UNAVAILABLE.has(err.code)) {
    const retryable = err.code !== 'oci.unauthorized' && err.code !== 'oci.tls';
    return new HttpProblem(502, err.code, 'The registry could not be used', {
      detail: err.message,
      errors,
      retryable,
      ...(retryable ? { backoffStrategy: 'exponential' as const } : {}),
    });
  }
  return new HttpProblem(422, err.code, 'The artifact was refused', { detail: err.message, errors });
}
