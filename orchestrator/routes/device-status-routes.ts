import { Hono } from 'hono';
import { deploymentStatusSchema } from '../../wire/margo/status.js';
import type { ControlPlaneDeps } from '../app.js';
import { StatusReportQueue } from '../deployments/status-queue.js';
import { readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';
import { HttpProblem, validationProblem } from '../http/problem.js';
import type { DesiredStateService } from '../desired-state/service.js';
import { deploymentIdParam } from './device-params.js';

/** Margo `POST /api/v1/deployments/{deploymentId}/status`: a device reports on itself. */
export function deviceStatusRoutes(deps: ControlPlaneDeps, svc: DesiredStateService): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const reports = new StatusReportQueue(deps.store, svc.changed);
  app.post('/:deploymentId/status', async (c) => {
    const deploymentId = deploymentIdParam(c.req.param('deploymentId'));
    const caller = c.get('device').deviceId;
    const report = await readJson(c, deploymentStatusSchema);
    if (report.deviceId !== caller)
      throw new HttpProblem(403, 'device.not_caller', 'A device reports only for itself', { detail: 'deviceId is not the calling device' });
    if (report.deploymentId !== deploymentId)
      throw validationProblem([{ field: 'deploymentId', message: `must be the deployment in the path ('${deploymentId}')` }]);
    const result = await reports.record({
      deploymentId,
      deviceId: caller,
      state: report.status.state,
      error: report.status.error ?? null,
      components: report.components ?? [],
      adoptedManifestVersion: report.adoptedManifestVersion,
      usage: report['x-berth-extensions']?.usage ?? null,
      // The version the report is about, by the device's word; never taken for the placed one.
      version: report['x-berth-extensions']?.version ?? null,
    });
    if (result === 'ahead') {
      throw validationProblem([
        { field: 'adoptedManifestVersion', message: `above the device's current manifestVersion (${(await svc.manifest(caller)).manifestVersion})` },
      ]);
    }
    if (result === 'not-placed') {
      throw new HttpProblem(403, 'deployment.not_placed', 'The deployment is not placed on this device', {
        detail: `'${deploymentId}' is not (or no longer) part of this device's desired state`,
        retryable: false,
      });
    }
    return c.body(null, result === 'created' ? 201 : 200, { 'cache-control': 'no-store' });
  });
  return app;
}
