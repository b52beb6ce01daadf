import { securityEvent, type Logger } from '../../common/logger.js';
import type { tokenOnboardingSchema } from '../../wire/onboarding.js';
import type { z } from 'zod';
import { hashSecret } from '../http/operator-auth.js';
import { HttpProblem } from '../http/problem.js';
import * as tokens from '../store/tokens.js';
import type { OnboardingMethod } from './method.js';

/** Enrollment token: one-time, expiring, optionally bound to a device id and labels. */
export function tokenMethod(logger: Logger): OnboardingMethod<z.infer<typeof tokenOnboardingSchema>> {
  return {
    name: 'token',
    async attest(tx, request, _csr, requestId) {
      const claim = await tokens.claimEnrollmentToken(tx, hashSecret(request.token), requestId);
      if (!claim.ok) {
        securityEvent(logger, 'onboarding.refused', { method: 'token', reason: `token_${claim.reason}`, token: claim.token?.id });
        const detail = {
          unknown: 'the enrollment token is not known',
          used: 'the enrollment token has already been used',
          expired: 'the enrollment token has expired',
        }[claim.reason];
        throw new HttpProblem(401, `onboarding.token_${claim.reason}`, 'The enrollment token was refused', { detail, retryable: false });
      }
      const t = claim.token;
      return {
        ...(t.deviceId ? { boundDeviceId: t.deviceId } : {}),
        identifiers: [],
        labels: t.labels,
        subject: `enrollment-token:${t.id}`,
      };
    },
  };
}
