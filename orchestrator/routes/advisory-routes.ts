import { Hono } from 'hono';
import { securityEvent } from '../../common/logger.js';
import { advisoryIdSchema } from '../../wire/advisory.js';
import type { ControlPlaneDeps } from '../app.js';
import { advisoryBody } from '../advisories/schema.js';
import { createAdvisory, listAdvisoriesFor, showAdvisory } from '../advisories/service.js';
import { canReadCatalog, canWriteCatalog } from '../catalog/access.js';
import { readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';
import { requireOperator } from '../http/operator-auth.js';
import { pathParam } from '../http/path-params.js';

/** Security advisories under /api/v1/advisories (docs/vulnerability-response.md). */
export function advisoryRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const asReader = requireOperator(deps, canReadCatalog);
  // An admin files for the fleet; a vendor for its own apps.
  const asFiler = requireOperator(deps, canWriteCatalog);
  const changed = deps.desiredStateChanged ?? (async () => {});

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

  app.get('/advisories/:id', asReader, async (c) => c.json(await showAdvisory(deps.store, c.get('operator').role, pathParam(c, 'id', advisoryIdSchema))));
  return app;
}
