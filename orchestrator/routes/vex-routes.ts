import { Hono } from 'hono';
import { securityEvent } from '../../common/logger.js';
import { MEDIA_TYPE } from '../../oci/media-types.js';
import { advisoryIdSchema } from '../../wire/advisory.js';
import type { ControlPlaneDeps } from '../app.js';
import type { z } from 'zod';
import { vexBody, vexDocumentBody, vexExportQuery, type vexStated } from '../advisories/schema.js';
import { showAdvisory } from '../advisories/service.js';
import { exportVex, stateVex, statementsOfDocument, type StatedVex } from '../advisories/vex.js';
import { canReadCatalog, canWriteCatalog } from '../catalog/access.js';
import { readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';
import { actorOf, requireOperator } from '../http/operator-auth.js';
import { pathParam, queryOf } from '../http/path-params.js';
import { publicLink } from '../http/public-url.js';

/** VEX statements under /api/v1 (docs/vulnerability-response.md, "VEX"): a vendor for its own apps, an admin for any. */
export function vexRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const asReader = requireOperator(deps, canReadCatalog);
  const asStater = requireOperator(deps, canWriteCatalog);
  const changed = deps.desiredStateChanged ?? (async () => {});
  const stated = async (caller: { role: string; name: string; tokenId: string }, statements: (StatedVex & { at: string })[]) => {
    const done = await stateVex(deps.store, caller.role, actorOf(caller), statements, changed);
    for (const s of done) {
      const { advisoryId: advisory, app, version, status, justification } = s;
      securityEvent(deps.logger, 'vex.stated', { advisory, app, version, status, justification, by: caller.name, token: caller.tokenId });
    }
    return { statements: done } satisfies z.output<typeof vexStated>;
  };

  app.put('/advisories/:id/vex', asStater, async (c) => {
    const id = pathParam(c, 'id', advisoryIdSchema);
    await showAdvisory(deps.store, c.get('operator').role, id); // 404 for what the caller may not see
    const body = await readJson(c, vexBody, 1024 * 1024);
    return c.json(
      await stated(
        c.get('operator'),
        body.statements.map((s, i) => ({ ...s, advisoryId: id, at: `statements.${i}` })),
      ),
    );
  });

  // An OpenVEX or CycloneDX VEX document: its statements, for any advisories, all or none.
  app.post('/vex', asStater, async (c) => {
    const doc = await readJson(c, vexDocumentBody, 4 * 1024 * 1024);
    return c.json(await stated(c.get('operator'), await statementsOfDocument(deps.store, doc)));
  });

  app.get('/advisories/:id/vex', asReader, async (c) => {
    const role = c.get('operator').role;
    const id = pathParam(c, 'id', advisoryIdSchema);
    await showAdvisory(deps.store, role, id);
    const { format } = queryOf(c, vexExportQuery);
    const doc = await exportVex(deps.store, role, id, format, publicLink(deps, ''));
    return c.json(doc, 200, { 'content-type': format === 'cyclonedx' ? MEDIA_TYPE.cyclonedxJson : 'application/json' });
  });
  return app;
}
