import { Hono } from 'hono';
import { securityEvent, type Logger } from '../../common/logger.js';
import { advisoryIdSchema } from '../../wire/advisory.js';
import type { ControlPlaneDeps } from '../app.js';
import type { z } from 'zod';
import { advisoryBody, exposureQuery } from '../advisories/schema.js';
import type { exposureReportShown } from '../../wire/advisory.js';
import { createAdvisory, listAdvisoriesFor, showAdvisory, type AdvisoryCreated } from '../advisories/service.js';
import { exposureCsv, exposureReport } from '../advisories/exposure.js';
import { getAdvisory } from '../store/advisories.js';
import { actorOf, requireOperator, roles } from '../http/operator-auth.js';
import { HttpProblem } from '../http/problem.js';
import { canReadCatalog, canWriteCatalog } from '../catalog/access.js';
import { readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';
import { pathParam, queryOf } from '../http/path-params.js';

/** Security advisories under /api/v1 (docs/vulnerability-response.md); VEX is vex-routes.ts. */
export function advisoryRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const asReader = requireOperator(deps, canReadCatalog);
  const asFleetReader = requireOperator(deps, roles.operator);
  // An admin files for the fleet; a vendor for its own apps.
  const asFiler = requireOperator(deps, canWriteCatalog);
  const changed = deps.desiredStateChanged ?? (async () => {});

  app.post('/advisories', asFiler, async (c) => {
    const caller = c.get('operator');
    const body = await readJson(c, advisoryBody, 256 * 1024);
    const created = await createAdvisory(deps.store, caller.role, actorOf(caller), body, changed);
    auditCreated(deps.logger, created, caller);
    return c.json(created, 201);
  });

  app.get('/advisories', asReader, async (c) => c.json({ advisories: await listAdvisoriesFor(deps.store, c.get('operator').role) }));

  // Exposure names devices: the fleet's operators only (docs/vulnerability-response.md).
  app.get('/advisories/:id/exposure', asFleetReader, async (c) => {
    const advisory = await getAdvisory(deps.store, pathParam(c, 'id', advisoryIdSchema));
    if (!advisory) throw new HttpProblem(404, 'advisory.unknown', 'No such advisory', { detail: `no advisory '${c.req.param('id')}'` });
    const { groupBy, format } = queryOf(c, exposureQuery);
    const report = await exposureReport(deps.store, advisory, groupBy);
    if (format === 'csv') return c.body(exposureCsv(report), 200, { 'content-type': 'text/csv; charset=utf-8; header=present' });
    return c.json(report satisfies z.output<typeof exposureReportShown>);
  });

  app.get('/advisories/:id', asReader, async (c) => c.json(await showAdvisory(deps.store, c.get('operator').role, pathParam(c, 'id', advisoryIdSchema))));
  return app;
}

/** The audit events of a filed advisory: itself, then each deployment it moved or left to stop. */
function auditCreated(logger: Logger, created: AdvisoryCreated, caller: { name: string; tokenId: string }): void {
  const { id: advisory, severity, action, vendor } = created;
  const affectedVersions = created.affectedVersions.map((v) => `${v.app}@${v.version}`);
  securityEvent(logger, 'advisory.created', { advisory, severity, action, vendor, affectedVersions, by: caller.name, token: caller.tokenId });
  const acted = [
    ...created.moved.map(
      (m) => ['advisory.rolled_back', { deployment: m.deploymentId, app: m.appId, from: m.from, to: m.to, devices: m.devices.length }] as const,
    ),
    ...created.stopped.map((s) => ['advisory.stopped', { deployment: s.deploymentId, app: s.appId, versions: s.versions, devices: s.devices.length }] as const),
  ];
  for (const [event, fields] of acted) securityEvent(logger, event, { advisory, ...fields });
}
