import { Hono } from 'hono';
import type { ControlPlaneDeps } from '../app.js';
import { canReadCatalog, canWriteCatalog, vendorOfRole } from '../catalog/access.js';
import type { z } from 'zod';
import { appBody, trustPolicyBody, vendorBody } from '../catalog/schema.js';
import { trustPolicyReplaced, vendorRegistered } from '../../wire/catalog.js';
import { appIdSchema as appId, vendorNameSchema as vendorName } from '../../wire/ids.js';
import { pathParam } from '../http/path-params.js';
import { ArtifactAdmission } from '../catalog/artifact-admission.js';
import { addVersion, createApp, getOwnApp, retireVersion } from '../catalog/service.js';
import { securityEvent } from '../../common/logger.js';
import { checkTrustPolicy, replaceTrustPolicy } from '../catalog/trust-policy.js';
import { RegistrySource } from '../../oci/source.js';
import { readJson } from '../http/body.js';
import type { AppEnv } from '../http/env.js';
import { actorOf, requireOperator, roles } from '../http/operator-auth.js';
import { HttpProblem } from '../http/problem.js';
import * as catalog from '../store/catalog.js';
import { versionBody } from '../catalog/schema.js';

/** Vendors, apps and versions under /api/v1/catalog; a vendor token sees and changes only its own apps. */
export function vendorRoutes(deps: ControlPlaneDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const asAdmin = requireOperator(deps, roles.admin);
  const asReader = requireOperator(deps, canReadCatalog);
  const asWriter = requireOperator(deps, canWriteCatalog);
  const role = (c: { get(k: 'operator'): { role: string } }) => c.get('operator').role;
  const artifacts = deps.artifacts ?? new ArtifactAdmission({ source: new RegistrySource(), logger: deps.logger });
  const changed = deps.desiredStateChanged ?? (async () => {});

  app.post('/vendors', asAdmin, async (c) => {
    const body = await readJson(c, vendorBody);
    const trustPolicy = checkTrustPolicy(body.name, body.trustPolicy);
    if (!(await catalog.insertVendor(deps.store, body.name, trustPolicy)))
      throw new HttpProblem(409, 'catalog.vendor_exists', 'That vendor is registered already');
    securityEvent(deps.logger, 'catalog.vendor_registered', { vendor: body.name, by: actorOf(c.get('operator')) });
    return c.json({ name: body.name, trustPolicy } satisfies z.output<typeof vendorRegistered>, 201);
  });

  app.get('/vendors', asReader, async (c) => c.json({ vendors: await catalog.listVendors(deps.store, vendorOfRole(role(c))) }));

  app.get('/vendors/:name', asReader, async (c) => {
    const name = pathParam(c, 'name', vendorName);
    const own = vendorOfRole(role(c));
    if (own !== undefined && own !== name)
      throw new HttpProblem(403, 'catalog.other_vendor', 'Another vendor', { detail: `vendor '${own}' may not read vendor '${name}'` });
    const vendor = await catalog.getVendor(deps.store, name);
    if (!vendor) throw new HttpProblem(404, 'catalog.unknown_vendor', 'No such vendor', { detail: `no vendor '${name}'` });
    return c.json(vendor);
  });

  // The trust policy decides whose signatures count for this vendor: the operator's call, not the vendor's.
  app.put('/vendors/:name/trust-policy', asAdmin, async (c) => {
    const name = pathParam(c, 'name', vendorName);
    const body = await readJson(c, trustPolicyBody);
    const replaced = await replaceTrustPolicy(deps.store, name, body.trustPolicy, changed);
    securityEvent(deps.logger, 'catalog.trust_policy_replaced', { vendor: name, devices: replaced.devices.length, by: actorOf(c.get('operator')) });
    return c.json({ name, trustPolicy: replaced.trustPolicy, rerenderedDevices: replaced.devices.length } satisfies z.output<typeof trustPolicyReplaced>);
  });

  app.get('/apps', asReader, async (c) => c.json({ apps: await catalog.listApps(deps.store, vendorOfRole(role(c))) }));

  app.post('/apps', asWriter, async (c) => {
    const created = await createApp(deps.store, role(c), await readJson(c, appBody));
    securityEvent(deps.logger, 'catalog.app_created', { app: created.id, vendor: created.vendor, by: actorOf(c.get('operator')) });
    return c.json(created, 201);
  });

  app.get('/apps/:id', asReader, async (c) => c.json(await getOwnApp(deps.store, role(c), pathParam(c, 'id', appId))));

  app.get('/apps/:id/versions', asReader, async (c) => {
    const a = await getOwnApp(deps.store, role(c), pathParam(c, 'id', appId));
    return c.json({ app: a.id, versions: await catalog.listVersions(deps.store, a.id) });
  });

  app.post('/apps/:id/versions', asWriter, async (c) => {
    // Ownership before the body: another vendor learns nothing from validation errors.
    const id = pathParam(c, 'id', appId);
    await getOwnApp(deps.store, role(c), id);
    const added = await addVersion(deps.store, role(c), id, await readJson(c, versionBody), artifacts);
    securityEvent(deps.logger, 'catalog.version_admitted', { app: id, version: added.version, digest: added.component.digest, by: actorOf(c.get('operator')) });
    return c.json(added, 201);
  });

  // Retiring: refused while a deployment needs the version; the mirror is cleaned up after (docs/admission.md).
  app.delete('/apps/:id/versions/:version', asWriter, async (c) => {
    const caller = c.get('operator');
    const retired = await retireVersion(deps.store, caller.role, pathParam(c, 'id', appId), pathParam(c, 'version'));
    securityEvent(deps.logger, 'catalog.version_retired', {
      app: retired.appId,
      version: retired.version,
      repository: retired.component.repository,
      digest: retired.component.digest,
      by: caller.name,
      token: caller.tokenId,
    });
    deps.mirrorCollector?.request();
    return c.body(null, 204);
  });
  return app;
}
