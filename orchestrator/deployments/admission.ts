import { randomUUID } from 'node:crypto';
import { checkImports } from '../../host-apis/import-policy.js';
import { assertNotBlocked } from '../advisories/blocking.js';
import { vendorPolicy, type ArtifactAdmission } from '../catalog/artifact-admission.js';
import { admissionRefusal } from '../catalog/refusal.js';
import type { DesiredStateChanged } from '../desired-state/placement.js';
import { HttpProblem, validationProblem } from '../http/problem.js';
import type { PlacementSpec } from '../scheduling/plan.js';
import { rescheduleDeployment, type ScheduleResult } from '../scheduling/scheduler.js';
import * as catalog from '../store/catalog.js';
import * as deployments from '../store/deployments.js';
import type { DeploymentRecord } from '../store/deployments.js';
import * as placements from '../store/placements.js';
import type { Queryable, Store } from '../store/store.js';
import { rollback, startRollingUpdate, type RolloutStep } from './rollout.js';
import type { DeploymentBody } from './schema.js';

export function placementSpecOf(body: DeploymentBody): PlacementSpec {
  const spec: PlacementSpec = { mode: body.mode === 'spread' ? { kind: 'spread', replicas: body.replicas! } : { kind: 'every' } };
  if (body.deviceConstraints.capacityRequirements) spec.capacityRequirements = body.deviceConstraints.capacityRequirements;
  if (body.deviceConstraints.eligibilityRules) spec.eligibilityRules = body.deviceConstraints.eligibilityRules;
  if (body.deviceIds) spec.deviceIds = [...new Set(body.deviceIds)].sort();
  return spec;
}

/**
 * The version's artifact against the vendor's *current* policy (a key may have been removed
 * since admission), outside any transaction: cheap when nothing changed, a pull by digest and a
 * full verification otherwise. Returns the policy fingerprint, which the transaction re-checks.
 */
async function recheckArtifact(db: Queryable, artifacts: ArtifactAdmission, appId: string, version: string, field: string): Promise<string | undefined> {
  const v = await catalog.getVersion(db, appId, version);
  const app = await catalog.getApp(db, appId);
  const vendor = app && (await catalog.getVendor(db, app.vendor));
  if (!v || !vendor) return undefined; // reported with the right field inside the transaction
  try {
    return await artifacts.recheck(vendor, v);
  } catch (err) {
    throw admissionRefusal(err, field);
  }
}

/** Inside the transaction: the policy is still the one the artifact was just checked against. */
async function samePolicy(tx: Queryable, appId: string, checked: string | undefined): Promise<void> {
  const app = await catalog.getApp(tx, appId);
  const vendor = app && (await catalog.getVendor(tx, app.vendor));
  let now: string | undefined;
  try {
    now = vendor && vendorPolicy(vendor).fingerprint;
  } catch {
    now = undefined;
  }
  if (checked === undefined || now !== checked) {
    throw new HttpProblem(409, 'deployment.policy_changed', "The vendor's trust policy changed while the artifact was being checked", {
      detail: 'try again',
      retryable: true,
    });
  }
}

/**
 * Admits a deployment whole or not at all: the app version exists, its verified artifact still
 * passes the vendor's current policy, the grants parse and cover the imports read from the
 * component, node-locked devices exist; then it is stored and placed in the same transaction,
 * and the desired-state side hears of every device it lands on.
 */
export async function createDeployment(
  store: Store,
  body: DeploymentBody,
  by: string,
  changed: DesiredStateChanged,
  artifacts: ArtifactAdmission,
): Promise<{ deployment: DeploymentRecord; placement: ScheduleResult }> {
  const checked = await recheckArtifact(store, artifacts, body.app, body.version, 'version');
  return store.transaction(async (tx) => {
    const version = await catalog.getVersion(tx, body.app, body.version, 'key share');
    if (!version) {
      const app = await catalog.getApp(tx, body.app);
      throw validationProblem(
        [app ? { field: 'version', message: `app '${body.app}' has no version '${body.version}'` } : { field: 'app', message: `no app '${body.app}'` }],
        'deployment.unknown_version',
      );
    }
    await samePolicy(tx, body.app, checked);
    await assertNotBlocked(tx, body.app, body.version, 'version');
    try {
      checkImports(body.app, version.imports, body.grants);
    } catch (err) {
      throw validationProblem([{ field: 'grants', message: (err as Error).message }], 'deployment.grants_refused');
    }
    if (body.deviceIds) {
      const known = new Set((await tx.query<{ id: string }>('SELECT id FROM devices WHERE id = ANY($1::text[])', [body.deviceIds])).map((r) => r.id));
      const missing = body.deviceIds.map((id, i) => ({ id, i })).filter((x) => !known.has(x.id));
      if (missing.length > 0)
        throw validationProblem(
          missing.map((m) => ({ field: `deviceIds.${m.i}`, message: `no device '${m.id}'` })),
          'deployment.unknown_device',
        );
    }
    const id = body.id ?? randomUUID();
    const inserted = await deployments.insertDeployment(tx, {
      id,
      appId: body.app,
      version: body.version,
      // Effective: the body's grants were parsed with the wire schema, which applied the defaults
      // once, here; the signed desired state carries these values (docs/deployments.md "Grants").
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

/** A rolling update to `version`, after its artifact passed the same re-check as a new deployment. */
export async function admitRollout(
  store: Store,
  id: string,
  version: string,
  batchSize: number | undefined,
  changed: DesiredStateChanged,
  artifacts: ArtifactAdmission,
  waveTimeoutSeconds?: number,
): Promise<RolloutStep> {
  const d = await deployments.getDeployment(store, id);
  const checked = d ? await recheckArtifact(store, artifacts, d.appId, version, 'version') : undefined;
  return store.transaction(async (tx) => {
    // Unknown deployments and versions are reported by startRollingUpdate with their own problems.
    if (d && (await catalog.getVersion(tx, d.appId, version))) await samePolicy(tx, d.appId, checked);
    return startRollingUpdate(tx, id, version, batchSize, changed, waveTimeoutSeconds);
  });
}

/**
 * A rollback to the version before the last rolling update, after that version's artifact passed
 * the same re-check: a vendor key removed since (say, after a compromise) must not come back
 * through a rollback any more than through a new deployment.
 */
export async function admitRollback(store: Store, id: string, changed: DesiredStateChanged, artifacts: ArtifactAdmission): Promise<string> {
  const d = await deployments.getDeployment(store, id);
  const previous = d?.rollout.previousVersion ?? null;
  const checked = d && previous !== null ? await recheckArtifact(store, artifacts, d.appId, previous, 'rollout.previousVersion') : undefined;
  return store.transaction(async (tx) => {
    // No deployment or nothing to roll back to: rollback() answers with its own problems.
    if (d && previous !== null && (await catalog.getVersion(tx, d.appId, previous))) {
      await samePolicy(tx, d.appId, checked);
      if ((await deployments.getDeployment(tx, id))?.rollout.previousVersion !== previous) {
        throw new HttpProblem(409, 'deployment.changed', 'The deployment changed while the version to roll back to was being checked', {
          detail: 'try again',
          retryable: true,
        });
      }
    }
    return rollback(tx, id, changed);
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
