import { randomUUID } from 'node:crypto';
import { parseGrants } from '../../host-apis/grants.js';
import { checkImports } from '../../host-apis/import-policy.js';
import type { DesiredStateChanged } from '../desired-state/placement.js';
import { HttpProblem, validationProblem } from '../http/problem.js';
import type { PlacementSpec } from '../scheduling/plan.js';
import { rescheduleDeployment, type ScheduleResult } from '../scheduling/scheduler.js';
import * as catalog from '../store/catalog.js';
import * as deployments from '../store/deployments.js';
import type { DeploymentRecord } from '../store/deployments.js';
import * as placements from '../store/placements.js';
import type { Store } from '../store/store.js';
import type { DeploymentBody } from './schema.js';

export function placementSpecOf(body: DeploymentBody): PlacementSpec {
  const spec: PlacementSpec = { mode: body.mode === 'spread' ? { kind: 'spread', replicas: body.replicas! } : { kind: 'every' } };
  if (body.deviceConstraints.capacityRequirements) spec.capacityRequirements = body.deviceConstraints.capacityRequirements;
  if (body.deviceConstraints.eligibilityRules) spec.eligibilityRules = body.deviceConstraints.eligibilityRules;
  if (body.deviceIds) spec.deviceIds = [...new Set(body.deviceIds)].sort();
  return spec;
}

/**
 * Admits a deployment whole or not at all: the app version exists, the grants parse and cover
 * the version's imports, node-locked devices exist; then it is stored and placed in the same
 * transaction, and the desired-state side hears of every device it lands on.
 */
export async function createDeployment(store: Store, body: DeploymentBody, by: string, changed: DesiredStateChanged): Promise<{ deployment: DeploymentRecord; placement: ScheduleResult }> {
  return store.transaction(async (tx) => {
    const version = await catalog.getVersion(tx, body.app, body.version);
    if (!version) {
      const app = await catalog.getApp(tx, body.app);
      throw validationProblem([app ? { field: 'version', message: `app '${body.app}' has no version '${body.version}'` } : { field: 'app', message: `no app '${body.app}'` }], 'deployment.unknown_version');
    }
    let grants;
    try {
      grants = parseGrants(body.grants);
      checkImports(body.app, version.imports, grants);
    } catch (err) {
      throw validationProblem([{ field: 'grants', message: (err as Error).message }], 'deployment.grants_refused');
    }
    if (body.deviceIds) {
      const known = new Set((await tx.query<{ id: string }>('SELECT id FROM devices WHERE id = ANY($1::text[])', [body.deviceIds])).map((r) => r.id));
      const missing = body.deviceIds.map((id, i) => ({ id, i })).filter((x) => !known.has(x.id));
      if (missing.length > 0) throw validationProblem(missing.map((m) => ({ field: `deviceIds.${m.i}`, message: `no device '${m.id}'` })), 'deployment.unknown_device');
    }
    const id = body.id ?? randomUUID();
    const inserted = await deployments.insertDeployment(tx, {
      id,
      appId: body.app,
      version: body.version,
      // Stored as given (defaults are applied where grants are read), so the record is what the operator wrote.
      grants: body.grants,
      tier: body.tier,
      limits: body.limits ?? null,
      parameters: body.parameters ?? null,
      placement: placementSpecOf(body),
      createdBy: by,
      batchSize: body.rollout.batchSize,
    });
    if (!inserted) throw new HttpProblem(409, 'deployment.exists', 'A deployment with that id exists', { detail: `deployment '${id}' exists` });
    const deployment = (await deployments.getDeployment(tx, id))!;
    return { deployment, placement: await rescheduleDeployment(tx, deployment, changed) };
  });
}

export async function removeDeployment(store: Store, id: string, changed: DesiredStateChanged): Promise<string[]> {
  return store.transaction(async (tx) => {
    const d = await deployments.getDeployment(tx, id, true);
    if (!d) throw new HttpProblem(404, 'deployment.unknown', 'No such deployment', { detail: `no deployment '${id}'` });
    const devices = (await placements.placementsOfDeployment(tx, id)).map((p) => p.deviceId);
    await deployments.deleteDeployment(tx, id);
    if (devices.length > 0) await changed(tx, devices);
    return devices;
  });
}
