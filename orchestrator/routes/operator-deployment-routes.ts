import { Hono, type Context } from 'hono';
import { securityEvent } from '../../common/logger.js';
import type { ControlPlaneDeps } from '../app.js';
import { ArtifactAdmission } from '../catalog/artifact-admission.js';
import { admitRollback, admitRollout, createDeployment, removeDeployment } from '../deployments/admission.js';
import { RegistrySource } from '../../oci/source.js';
import type { z } from 'zod';
import { deploymentBody, rolloutBody, schedulerSwept } from '../deployments/schema.js';
import { deploymentRemoved, deploymentRolledBack } from '../../wire/deployment.js';
import { pauseRollout, resumeRollout } from '../deployments/rollout-control.js';
import { aggregateStatus } from '../deployments/status.js';
import type { DesiredStateChanged } from '../desired-state/placement.js';
import { emptyBody, readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';
import { actorOf, requireOperator, roles } from '../http/operator-auth.js';
import { HttpProblem } from '../http/problem.js';
import { pathParam } from '../http/path-params.js';
import { rescheduleAll } from '../scheduling/scheduler.js';
import * as deployments from '../store/deployments.js';
import * as placements from '../store/placements.js';

const noChange: DesiredStateChanged = async () => {};

/**
 * A deployment id in an operator path: a safe segment rather than the admission pattern, so a
 * deployment admitted under an older, looser rule can still be read and removed.
 */
const deploymentId = (c: Context): string => pathParam(c, 'id');

/** Deployments under /api/v1/admin/deployments (operators). Handlers parse, call, answer. */
export function operatorDeploymentRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const asOperator = requireOperator(deps, roles.operator);
  const changed = deps.desiredStateChanged ?? noChange;
  const artifacts = deps.artifacts ?? new ArtifactAdmission({ source: new RegistrySource(), logger: deps.logger });
  const found = async (id: string) => {
    const d = await deployments.getDeployment(deps.store, id);
    if (!d) throw new HttpProblem(404, 'deployment.unknown', 'No such deployment', { detail: `no deployment '${id}'` });
    return d;
  };

  app.post('/deployments', asOperator, async (c) => {
    const body = await readJson(c, deploymentBody, 1024 * 1024);
    const { deployment, placement } = await createDeployment(deps.store, body, actorOf(c.get('operator')), changed, artifacts);
    securityEvent(deps.logger, 'deployment.created', {
      deploymentId: deployment.id,
      app: deployment.appId,
      version: deployment.version,
      devices: placement.added.length,
      by: actorOf(c.get('operator')),
    });
    return c.json({ ...deployment, placed: placement.added, unplaced: placement.unplaced }, 201);
  });

  app.get('/deployments', asOperator, async (c) => c.json({ deployments: await deployments.listDeployments(deps.store) }));

  app.get('/deployments/:id', asOperator, async (c) => {
    const d = await found(deploymentId(c));
    return c.json({ ...d, placements: await placements.placementsOfDeployment(deps.store, d.id) });
  });

  app.delete('/deployments/:id', asOperator, async (c) => {
    const devices = await removeDeployment(deps.store, deploymentId(c), changed);
    securityEvent(deps.logger, 'deployment.removed', { deploymentId: deploymentId(c), devices: devices.length, by: actorOf(c.get('operator')) });
    return c.json({ deploymentId: deploymentId(c), removedFrom: devices } satisfies z.output<typeof deploymentRemoved>);
  });

  app.get('/deployments/:id/status', asOperator, async (c) => c.json(await aggregateStatus(deps.store, deploymentId(c))));

  app.post('/deployments/:id/rollouts', asOperator, async (c) => {
    const body = await readJson(c, rolloutBody);
    const id = deploymentId(c);
    const step = await admitRollout(deps.store, id, body.version, body.batchSize, changed, artifacts, body.waveTimeoutSeconds);
    securityEvent(deps.logger, 'rollout.started', { deploymentId: id, version: body.version, batchSize: body.batchSize, by: actorOf(c.get('operator')) });
    return c.json({ deploymentId: id, step, ...(await found(id)).rollout }, 202);
  });

  // An operator's hold on a rolling update, and going on with it (deployments/rollout-control.ts).
  app.post('/deployments/:id/rollout/pause', asOperator, async (c) => {
    await readJson(c, emptyBody);
    const id = deploymentId(c);
    const d = await deps.store.transaction((tx) => pauseRollout(tx, id, actorOf(c.get('operator'))));
    securityEvent(deps.logger, 'rollout.paused', { deploymentId: id, version: d.rollout.targetVersion, by: actorOf(c.get('operator')) });
    return c.json({ deploymentId: id, ...d.rollout });
  });

  app.post('/deployments/:id/rollout/resume', asOperator, async (c) => {
    await readJson(c, emptyBody);
    const id = deploymentId(c);
    const { step, deployment } = await deps.store.transaction((tx) => resumeRollout(tx, id, changed));
    securityEvent(deps.logger, 'rollout.resumed', {
      deploymentId: id,
      version: deployment.rollout.targetVersion ?? deployment.version,
      step,
      by: actorOf(c.get('operator')),
    });
    return c.json({ deploymentId: id, step, ...deployment.rollout });
  });

  app.post('/deployments/:id/rollbacks', asOperator, async (c) => {
    await readJson(c, emptyBody);
    const id = deploymentId(c);
    const version = await admitRollback(deps.store, id, changed, artifacts);
    securityEvent(deps.logger, 'deployment.rolled_back', { deploymentId: id, version, by: actorOf(c.get('operator')) });
    return c.json({ deploymentId: id, version } satisfies z.output<typeof deploymentRolledBack>);
  });

  // A full recompute, for after changes the scheduler was not told of (and as a periodic safety net).
  app.post('/scheduler/sweeps', asOperator, async (c) => {
    await deps.store.transaction((tx) => rescheduleAll(tx, changed));
    return c.json({ swept: true } satisfies z.output<typeof schedulerSwept>);
  });
  return app;
}
