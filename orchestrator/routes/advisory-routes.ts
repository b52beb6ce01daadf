import { Hono } from 'hono';
import { securityEvent } from '../../common/logger.js';
import { advisoryIdSchema } from '../../wire/advisory.js';
import type { ControlPlaneDeps } from '../app.js';
import { advisoryBody } from '../advisories/schema.js';
import { createAdvisory, listAdvisoriesFor, showAdvisory } from '../advisories/service.js';
import { exportVex, stateVex, statementsOfDocument } from '../advisories/vex.js';
import { exposureCsv, exposureReport } from '../advisories/exposure.js';
import { getAdvisory } from '../store/advisories.js';
import { requireOperator, roles } from '../http/operator-auth.js';
import { vexStatementSchema } from '../../wire/vex.js';
import { HttpProblem } from '../http/problem.js';
import { publicLink } from '../http/public-url.js';
import { MEDIA_TYPE } from '../../oci/media-types.js';
import { z } from 'zod';
import { canReadCatalog, canWriteCatalog } from '../catalog/access.js';
import { readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';

import { pathParam } from '../http/path-params.js';

const vexBody = z.strictObject({ statements: z.array(vexStatementSchema).min(1).max(1000) });

/** Security advisories and VEX statements under /api/v1 (docs/vulnerability-response.md). */
export function advisoryRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const asReader = requireOperator(deps, canReadCatalog);
  const asFleetReader = requireOperator(deps, roles.operator);
  // An admin files for the fleet; a vendor for its own apps.
  const asFiler = requireOperator(deps, canWriteCatalog);
  const changed = deps.desiredStateChanged ?? (async () => {});
  const stated = async (caller: { role: string; name: string; tokenId: string }, statements: Parameters<typeof stateVex>[3]) => {
    const done = await stateVex(deps.store, caller.role, `${caller.name} (${caller.tokenId})`, statements, changed);
    for (const s of done)
      securityEvent(deps.logger, 'vex.stated', {
        advisory: s.advisoryId,
        app: s.app,
        version: s.version,
        status: s.status,
        justification: s.justification,
        by: caller.name,
        token: caller.tokenId,
      });
    return done;
  };

  app.post('/advisories', asFiler, async (c) => {
    const caller = c.get('operator');
    const body = await readJson(c, advisoryBody, 256 * 1024);
    const created = await createAdvisory(deps.store, caller.role, `${caller.name} (${caller.tokenId})`, body, changed);
    securityEvent(deps.logger, 'advisory.created', {
      advisory: created.id,
      severity: created.severity,
      action: created.action,
      vendor: created.vendor,
      affectedVersions: created.affectedVersions.map((v) => `${v.app}@${v.version}`),
      by: caller.name,
      token: caller.tokenId,
    });
    for (const m of created.moved) {
      securityEvent(deps.logger, 'advisory.rolled_back', {
        advisory: created.id,
        deployment: m.deploymentId,
        app: m.appId,
        from: m.from,
        to: m.to,
        devices: m.devices.length,
      });
    }
    for (const s of created.stopped) {
      securityEvent(deps.logger, 'advisory.stopped', {
        advisory: created.id,
        deployment: s.deploymentId,
        app: s.appId,
        versions: s.versions,
        devices: s.devices.length,
      });
    }
    return c.json(created, 201);
  });

  app.get('/advisories', asReader, async (c) => c.json({ advisories: await listAdvisoriesFor(deps.store, c.get('operator').role) }));

  app.put('/advisories/:id/vex', asFiler, async (c) => {
    const id = pathParam(c, 'id', advisoryIdSchema);
    await showAdvisory(deps.store, c.get('operator').role, id); // 404 for what the caller may not see
    const body = await readJson(c, vexBody, 1024 * 1024);
    return c.json({
      statements: await stated(
        c.get('operator'),
        body.statements.map((s, i) => ({ ...s, advisoryId: id, at: `statements.${i}` })),
      ),
    });
  });

  // An OpenVEX or CycloneDX VEX document: its statements, for any advisories, all or none.
  app.post('/vex', asFiler, async (c) => {
    const doc = await readJson(c, z.unknown(), 4 * 1024 * 1024);
    return c.json({ statements: await stated(c.get('operator'), await statementsOfDocument(deps.store, doc)) });
  });

  app.get('/advisories/:id/vex', asReader, async (c) => {
    const role = c.get('operator').role;
    const id = pathParam(c, 'id', advisoryIdSchema);
    await showAdvisory(deps.store, role, id); // 404 for what the caller may not see
    const format = c.req.query('format') ?? 'openvex';
    if (format !== 'openvex' && format !== 'cyclonedx' && format !== 'berth')
      throw new HttpProblem(400, 'request.bad_parameter', 'A path or query parameter is not valid', {
        detail: `format must be openvex, cyclonedx or berth, not '${format.slice(0, 40)}'`,
      });
    const doc = await exportVex(deps.store, role, id, format, publicLink(deps, ''));
    return c.json(doc, 200, { 'content-type': format === 'cyclonedx' ? MEDIA_TYPE.cyclonedxJson : 'application/json' });
  });

  // Exposure names devices: the fleet's operators only (docs/vulnerability-response.md).
  app.get('/advisories/:id/exposure', asFleetReader, async (c) => {
    const advisory = await getAdvisory(deps.store, pathParam(c, 'id', advisoryIdSchema));
    if (!advisory) throw new HttpProblem(404, 'advisory.unknown', 'No such advisory', { detail: `no advisory '${c.req.param('id')}'` });
    const groupBy = c.req.query('groupBy') ?? 'site';
    if (!/^[A-Za-z0-9._/-]{1,63}$/.test(groupBy))
      throw new HttpProblem(400, 'request.bad_parameter', 'A path or query parameter is not valid', { detail: 'groupBy is a label name' });
    const format = c.req.query('format') ?? 'json';
    if (format !== 'json' && format !== 'csv')
      throw new HttpProblem(400, 'request.bad_parameter', 'A path or query parameter is not valid', { detail: 'format is json or csv' });
    const report = await exposureReport(deps.store, advisory, groupBy);
    if (format === 'csv') return c.body(exposureCsv(report), 200, { 'content-type': 'text/csv; charset=utf-8; header=present' });
    return c.json(report);
  });

  app.get('/advisories/:id', asReader, async (c) => c.json(await showAdvisory(deps.store, c.get('operator').role, pathParam(c, 'id', advisoryIdSchema))));
  return app;
}
