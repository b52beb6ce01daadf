import { issuedIdentitySchema, onboardingRequestSchema, pendingOnboardingSchema } from '../../wire/onboarding.js';
import { apiGroup } from '../openapi/operation.js';

/** What onboardingRoutes (onboarding-routes.ts) serves under /api/v1/onboarding, for the OpenAPI document. */

const PENDING = {
  description: 'An operator has to approve the device: poll `pollUri` after Retry-After',
  schema: pendingOnboardingSchema,
  headers: { 'retry-after': 'Seconds to wait before polling', location: 'The URI to poll' },
};

export const onboardingApi = apiGroup('Onboarding', [
  {
    method: 'post',
    path: '/',
    summary: 'Onboard a device: a CSR and an enrollment token or factory certificate',
    description: 'No client certificate: the device has none yet. The method’s credential and the CSR authorise the request (docs/onboarding.md).',
    access: 'public',
    body: onboardingRequestSchema,
    responses: { 201: { description: 'The device’s certificate', schema: issuedIdentitySchema }, 202: PENDING },
    problems: {
      401: 'The enrollment token was refused: unknown, used or expired (onboarding.token_*)',
      403: 'The factory certificate was refused, or the device is revoked or suspended (device.*)',
      409: 'The device id is taken, or nested with another device’s (onboarding.duplicate_id, onboarding.nested_device_id)',
      422: 'The method is not enabled, or the CSR or device id is not acceptable (onboarding.*, csr.*)',
    },
  },
  {
    method: 'get',
    path: '/:requestId',
    summary: 'Poll a pending onboarding request',
    access: 'public',
    params: { requestId: /^[0-9a-f]{32}$/ },
    responses: { 200: { description: 'Approved: the device’s certificate', schema: issuedIdentitySchema }, 202: PENDING },
    problems: {
      403: 'An operator denied the device, or it was revoked since (onboarding.denied, device.revoked)',
      404: 'No such onboarding request (onboarding.unknown_request)',
    },
  },
]);
