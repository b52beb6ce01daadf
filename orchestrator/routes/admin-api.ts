import {
  caRetired,
  caRotated,
  desiredStateKeyRotated,
  fleetSigningRetired,
  fleetSigningRotated,
  manufacturerTrusted,
  caRotationBody,
  deviceRevocationBody,
  enrollmentTokenBody,
  manufacturerBody,
  ONBOARDING_REQUEST_ID,
  onboardingApprovalBody,
  retirementBody,
  signingRotationBody,
  tokenBody,
} from '../admin/schema.js';
import { deviceRevoked, devicesListed } from '../../wire/devices.js';
import { enrollmentTokenCreated, tokenCreated } from '../../wire/tokens.js';
import { onboardingDecided, onboardingRequestsListed } from '../../wire/onboarding.js';
import { emptyBody } from '../http/body.js';
import { apiGroup } from '../openapi/operation.js';

/** What adminRoutes (admin-routes.ts) serves, for the OpenAPI document (docs/openapi.md). */

const NO_FLEET_SIGNING = 'This control plane runs no fleet signing CA (request.not_found)';

export const adminApi = apiGroup('Admin', [
  {
    method: 'post',
    path: '/tokens',
    summary: 'Create an operator or vendor token',
    access: 'admin',
    body: tokenBody,
    responses: { 201: { description: 'The token; its secret is shown only here', schema: tokenCreated } },
    problems: { 422: 'The role is not admin, operator or vendor:<name>' },
  },
  {
    method: 'post',
    path: '/enrollment-tokens',
    summary: 'Create a one-time enrollment token for onboarding a device',
    access: 'operator',
    body: enrollmentTokenBody,
    responses: {
      201: {
        description: 'The enrollment token; its secret is shown only here',
        schema: enrollmentTokenCreated,
      },
    },
    problems: { 409: 'The device id is nested with an existing device’s (onboarding.nested_device_id)', 422: 'The device id or labels are not valid' },
  },
  {
    method: 'get',
    path: '/devices',
    summary: 'List the fleet’s devices',
    access: 'operator',
    responses: {
      200: { description: 'Every device', schema: devicesListed },
    },
  },
  {
    method: 'post',
    path: '/device-revocations',
    summary: 'Revoke a device and its certificates',
    access: 'operator',
    body: deviceRevocationBody,
    responses: {
      200: {
        description: 'The device is revoked',
        schema: deviceRevoked,
      },
    },
    problems: { 404: 'No such device' },
  },
  {
    method: 'get',
    path: '/onboarding-requests',
    summary: 'List pending onboarding requests',
    access: 'operator',
    responses: { 200: { description: 'The pending requests, without their CSRs', schema: onboardingRequestsListed } },
  },
  {
    method: 'post',
    path: '/onboarding-requests/:id/:decision{approve|deny}',
    summary: 'Approve or deny a pending onboarding request',
    access: 'operator',
    params: { id: ONBOARDING_REQUEST_ID },
    responses: {
      200: {
        description: 'The decision',
        schema: onboardingDecided,
      },
    },
    problems: { 404: 'No such onboarding request', 409: 'The request was decided already' },
  },
  {
    method: 'put',
    path: '/settings/onboarding-approval',
    summary: 'Require (or stop requiring) an operator’s approval for onboarding',
    access: 'admin',
    body: onboardingApprovalBody,
    responses: { 200: { description: 'The setting as stored', schema: onboardingApprovalBody } },
  },
  {
    method: 'post',
    path: '/manufacturers',
    summary: 'Trust a manufacturer CA for factory-certificate onboarding',
    access: 'admin',
    body: manufacturerBody,
    responses: { 201: { description: 'The manufacturer', schema: manufacturerTrusted } },
    problems: { 409: 'That manufacturer or certificate is already trusted', 422: 'The certificate does not parse or is not a CA' },
  },
  {
    method: 'post',
    path: '/ca/rotations',
    summary: 'Rotate the fleet CA (a new intermediate, or a new root)',
    access: 'admin',
    body: caRotationBody,
    responses: { 201: { description: 'The new CA', schema: caRotated } },
    problems: { 409: 'The fleet CA refused the change (pki.*)' },
  },
  {
    method: 'post',
    path: '/desired-state/key-rotations',
    summary: 'Rotate the desired-state signing key',
    description: 'The new key is endorsed by the current one, so devices follow without re-onboarding.',
    access: 'admin',
    body: emptyBody,
    responses: { 201: { description: 'The new key id and the ones before it', schema: desiredStateKeyRotated } },
    problems: { 404: 'This control plane signs no desired state (request.not_found)' },
  },
  {
    method: 'post',
    path: '/signing/rotations',
    summary: 'Rotate the fleet signing CA and/or timestamp authority',
    access: 'admin',
    body: signingRotationBody,
    responses: {
      201: { description: 'The roots now in service', schema: fleetSigningRotated },
    },
    problems: { 404: NO_FLEET_SIGNING },
  },
  {
    method: 'post',
    path: '/signing/retirements',
    summary: 'Take a rotated-out signing CA or TSA out of the served roots',
    access: 'admin',
    body: retirementBody,
    responses: { 200: { description: 'The roots left', schema: fleetSigningRetired } },
    problems: { 404: `No such signing root (signing.unknown_root), or ${NO_FLEET_SIGNING}`, 409: 'The signing root is in use (signing.root_in_use)' },
  },
  {
    method: 'post',
    path: '/ca/retirements',
    summary: 'Retire a rotated-out fleet CA certificate',
    access: 'admin',
    body: retirementBody,
    responses: { 200: { description: 'The trust bundle sequence after retiring it', schema: caRetired } },
    problems: { 409: 'The fleet CA refused the change (pki.*)' },
  },
]);
