import { Hono } from 'hono';
import type { Context } from 'hono';
import { onboardingRequestSchema, type OnboardingAnswer, type PendingOnboarding } from '../../wire/onboarding.js';
import { readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';
import { HttpProblem } from '../http/problem.js';
import { publicLink } from '../http/public-url.js';
import { issuedIdentity } from '../pki/issuance.js';
import { onboard, type OnboardingDeps } from '../onboarding/service.js';
import * as certificates from '../store/certificates.js';
import * as requests from '../store/requests.js';
import { TRUST_BUNDLE_PATH } from './trust-routes.js';

export const ONBOARDING_PATH = '/api/v1/onboarding';

/**
 * Onboarding needs no client certificate (the device has none yet); the method's credential and
 * the CSR authorise it. A pending answer is 202 with Retry-After and a URI to poll: no request
 * is held open while an operator decides.
 */
export function onboardingRoutes(deps: OnboardingDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const bundleUri = () => publicLink(deps, TRUST_BUNDLE_PATH);
  const pending = (c: Context, requestId: string, deviceId: string) => {
    const body: PendingOnboarding = {
      status: 'pending',
      requestId,
      deviceId,
      retryAfterSeconds: deps.pendingRetrySeconds,
      pollUri: publicLink(deps, `${ONBOARDING_PATH}/${requestId}`),
    };
    return c.json(body satisfies OnboardingAnswer, 202, {
      'retry-after': String(deps.pendingRetrySeconds),
      location: body.pollUri,
      'cache-control': 'no-store',
    });
  };

  app.post('/', async (c) => {
    const body = await readJson(c, onboardingRequestSchema);
    const outcome = await onboard(deps, body);
    if (outcome.kind === 'pending') return pending(c, outcome.requestId, outcome.deviceId);
    return c.json(issuedIdentity(deps.authority, outcome.certificate, bundleUri()) satisfies OnboardingAnswer, 201, { 'cache-control': 'no-store' });
  });

  app.get('/:requestId', async (c) => {
    const id = c.req.param('requestId');
    if (!/^[0-9a-f]{32}$/.test(id)) throw new HttpProblem(404, 'onboarding.unknown_request', 'No such onboarding request');
    const request = await requests.getRequest(deps.store, id);
    if (!request) throw new HttpProblem(404, 'onboarding.unknown_request', 'No such onboarding request');
    if (request.status === 'pending') return pending(c, request.id, request.deviceId);
    if (request.status === 'denied')
      throw new HttpProblem(403, 'onboarding.denied', 'An operator denied this device', { retryable: false, backoffStrategy: 'none' });
    const current = await certificates.findPresented(deps.store, request.certificateFingerprint!);
    if (!current || current.deviceStatus !== 'active' || current.certificate.state === 'revoked') {
      throw new HttpProblem(403, 'device.revoked', 'The device has been revoked', { retryable: false });
    }
    return c.json(issuedIdentity(deps.authority, current.certificate, bundleUri()) satisfies OnboardingAnswer, 200, { 'cache-control': 'no-store' });
  });
  return app;
}
