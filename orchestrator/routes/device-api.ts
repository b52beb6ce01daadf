import { z } from 'zod';
import { DESIRED_STATE_SIGNATURE_HEADER } from '../../trust/desired-state/statement.js';
import { DEPLOYMENT_ID_PATTERN, deviceIdSchema } from '../../wire/ids.js';
import { deviceCapabilitiesSchema } from '../../wire/margo/capabilities.js';
import { BUNDLE_MEDIA_TYPE, DEPLOYMENT_MEDIA_TYPE, DIGEST_PATTERN, MANIFEST_MEDIA_TYPE } from '../../wire/margo/common.js';
import { stateManifestSchema } from '../../wire/margo/manifest.js';
import { deploymentStatusSchema } from '../../wire/margo/status.js';
import { apiGroup, mountApi, type ApiOperation } from '../openapi/operation.js';
import { MAX_WAIT_SECONDS } from './device-deployments-routes.js';
import { waitSeconds } from './device-params.js';

/**
 * What deviceApiRoutes (device-api-routes.ts) serves under /api/v1: the Margo device API, for
 * the OpenAPI document. Mounted as device-api-routes.ts mounts its three groups.
 */

const NOT_CALLER = 'The device id is not the calling device (device.not_caller)';
const deviceId = { deviceId: deviceIdSchema };
const digest = { digest: DIGEST_PATTERN };

const capabilities: ApiOperation[] = [
  {
    method: 'put',
    path: '/:deviceId{.+}',
    summary: 'Report the device’s capabilities (Margo)',
    description: 'What the device can run changed: its placements are recomputed in the same transaction.',
    access: 'device',
    params: deviceId,
    body: deviceCapabilitiesSchema,
    responses: { 200: { description: 'Replaced' }, 201: { description: 'Recorded for the first time' } },
    problems: {
      403: NOT_CALLER,
      404: 'A device behind this gateway: Berth registers none (device.unknown_child)',
      422: '`properties.id` is not the device in the path',
    },
  },
  {
    method: 'delete',
    path: '/:deviceId{.+}',
    summary: 'Withdraw the device’s capabilities (Margo)',
    access: 'device',
    params: deviceId,
    responses: { 204: { description: 'Removed; the device’s placements are recomputed' } },
    problems: { 403: NOT_CALLER, 404: 'No capabilities registered, or a device behind this gateway (device.no_capabilities, device.unknown_child)' },
  },
];

const desiredState: ApiOperation[] = [
  {
    method: 'get',
    path: '/deployments',
    summary: 'The device’s desired state: its state manifest (Margo), long-polled',
    access: 'device',
    query: z.object({ wait: waitSeconds(MAX_WAIT_SECONDS).optional() }),
    responses: {
      200: {
        description: 'The state manifest',
        schema: stateManifestSchema,
        contentType: MANIFEST_MEDIA_TYPE,
        headers: { etag: 'The manifest’s digest', [DESIRED_STATE_SIGNATURE_HEADER]: 'The control plane’s signature over it (docs/desired-state.md)' },
      },
      304: { description: 'Unchanged (If-None-Match), after waiting up to `wait` seconds' },
    },
    problems: { 406: 'Accept does not admit ' + MANIFEST_MEDIA_TYPE + ' (request.not_acceptable)' },
  },
  {
    method: 'get',
    path: '/deployments/:deploymentId/:digest',
    summary: 'One deployment document the manifest names (Margo ApplicationDeployment)',
    access: 'device',
    params: { deploymentId: DEPLOYMENT_ID_PATTERN, ...digest },
    responses: { 200: { description: 'The document, immutable; its media type as the manifest names it', contentType: DEPLOYMENT_MEDIA_TYPE } },
    problems: { 404: 'Not a document of this device’s desired state (deployment.digest_unknown)' },
  },
  {
    method: 'get',
    path: '/bundles/:digest',
    summary: 'The bundle of the device’s deployment documents',
    access: 'device',
    params: digest,
    responses: { 200: { description: 'The bundle, immutable', contentType: BUNDLE_MEDIA_TYPE }, 304: { description: 'Unchanged (If-None-Match)' } },
    problems: { 404: 'Not a bundle of this device’s desired state (bundle.unknown)' },
  },
  {
    method: 'get',
    path: '/desired-state/keys',
    summary: 'The desired-state signing keys, for agents to pin',
    access: 'device',
    responses: {
      200: {
        description: 'A JWK set: the current key first, then earlier ones, with the endorsements chaining them',
        schema: z.object({ keys: z.array(z.looseObject({ kid: z.string().optional(), kty: z.string() })), endorsements: z.array(z.string()) }),
      },
    },
  },
];

const status: ApiOperation[] = [
  {
    method: 'post',
    path: '/:deploymentId/status',
    summary: 'Report a deployment’s status on the device (Margo)',
    access: 'device',
    params: { deploymentId: DEPLOYMENT_ID_PATTERN },
    body: deploymentStatusSchema,
    responses: { 200: { description: 'Recorded (replacing the last report)' }, 201: { description: 'Recorded, the first report' } },
    problems: {
      403: 'Another device’s report, or the deployment is not placed on this device (device.not_caller, deployment.not_placed)',
      422: '`deploymentId` is not the one in the path, or `adoptedManifestVersion` is ahead of the device’s manifest',
    },
  },
];

export const deviceApi = apiGroup('Device API (Margo)', [...mountApi('/capabilities', capabilities), ...desiredState, ...mountApi('/deployments', status)]);
