import { deploymentBody, rolloutBody, schedulerSwept } from '../deployments/schema.js';
import {
  deploymentCreated,
  deploymentRemoved,
  deploymentRolledBack,
  deploymentsListed,
  deploymentStatusShown,
  deploymentWithPlacements,
  rolloutAnswer,
} from '../../wire/deployment.js';
import { REGISTRY_PROBLEMS } from '../catalog/refusal.js';
import { emptyBody } from '../http/body.js';
import { apiGroup } from '../openapi/operation.js';

/** What operatorDeploymentRoutes (operator-deployment-routes.ts) serves under /api/v1/admin, for the OpenAPI document. */

const UNKNOWN = 'No such deployment (deployment.unknown)';

export const operatorDeploymentApi = apiGroup('Deployments', [
  {
    method: 'post',
    path: '/deployments',
    summary: 'Deploy an app version to the devices that match',
    access: 'operator',
    body: deploymentBody,
    responses: { 201: { description: 'The deployment, with the devices it was placed on and how many replicas found none', schema: deploymentCreated } },
    problems: {
      404: 'No such app or version',
      409: 'A deployment with that id exists, or the trust policy changed during the check (deployment.exists, deployment.policy_changed)',
      422: 'The version’s artifact fails its checks now, or the grants are not allowed',
      ...REGISTRY_PROBLEMS,
    },
  },
  {
    method: 'get',
    path: '/deployments',
    summary: 'List deployments',
    access: 'operator',
    responses: { 200: { description: 'The deployments', schema: deploymentsListed } },
  },
  {
    method: 'get',
    path: '/deployments/:id',
    summary: 'Read a deployment and its placements',
    access: 'operator',
    responses: { 200: { description: 'The deployment with its placements', schema: deploymentWithPlacements } },
    problems: { 404: UNKNOWN },
  },
  {
    method: 'delete',
    path: '/deployments/:id',
    summary: 'Remove a deployment from every device',
    access: 'operator',
    responses: { 200: { description: 'Removed', schema: deploymentRemoved } },
    problems: { 404: UNKNOWN },
  },
  {
    method: 'get',
    path: '/deployments/:id/status',
    summary: 'A deployment’s status across its devices',
    access: 'operator',
    responses: { 200: { description: 'Devices per state and version, failures with their errors, usage', schema: deploymentStatusShown } },
    problems: { 404: UNKNOWN },
  },
  {
    method: 'post',
    path: '/deployments/:id/rollouts',
    summary: 'Start a rolling update to another version',
    access: 'operator',
    body: rolloutBody,
    responses: { 202: { description: 'The rollout started', schema: rolloutAnswer } },
    problems: { 404: UNKNOWN, 409: 'A rollout is running, or the deployment changed', 422: 'The version’s artifact fails its checks', ...REGISTRY_PROBLEMS },
  },
  {
    method: 'post',
    path: '/deployments/:id/rollout/pause',
    summary: 'Pause a rolling update',
    access: 'operator',
    body: emptyBody,
    responses: { 200: { description: 'Paused', schema: rolloutAnswer } },
    problems: { 404: UNKNOWN, 409: 'The rollout is not running (rollout.not_running)' },
  },
  {
    method: 'post',
    path: '/deployments/:id/rollout/resume',
    summary: 'Resume a paused rolling update',
    access: 'operator',
    body: emptyBody,
    responses: { 200: { description: 'Resumed', schema: rolloutAnswer } },
    problems: { 404: UNKNOWN, 409: 'The rollout is not paused (rollout.not_paused)' },
  },
  {
    method: 'post',
    path: '/deployments/:id/rollbacks',
    summary: 'Roll a deployment back to its previous version',
    access: 'operator',
    body: emptyBody,
    responses: { 200: { description: 'Rolled back', schema: deploymentRolledBack } },
    problems: {
      404: UNKNOWN,
      409: 'Nothing to roll back to, or the deployment changed (deployment.changed)',
      422: 'The previous version’s artifact fails its checks',
      ...REGISTRY_PROBLEMS,
    },
  },
  {
    method: 'post',
    path: '/scheduler/sweeps',
    summary: 'Recompute every placement',
    description: 'For after changes the scheduler was not told of; also run periodically.',
    access: 'operator',
    responses: { 200: { description: 'Swept', schema: schedulerSwept } },
  },
]);
