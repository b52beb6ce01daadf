import type { z } from 'zod';
import { HttpProblem, validationProblem } from '../http/problem.js';
import * as catalog from '../store/catalog.js';
import type { AppRecord, AppVersionRecord } from '../store/catalog.js';
import type { Store } from '../store/store.js';
import { requireOwnApp, vendorOfRole } from './access.js';
import type { ArtifactAdmission } from './artifact-admission.js';
import { admissionRefusal } from './refusal.js';
import { versionSchema } from '../../wire/ids.js';
import type { appBody, versionBody } from './schema.js';
import { lockScheduler } from '../scheduling/scheduler.js';

const unknownApp = (id: string) => new HttpProblem(404, 'catalog.unknown_app', 'No such app', { detail: `no app '${id}'` });

export async function getOwnApp(store: Store, role: string, id: string): Promise<AppRecord> {
  const app = await catalog.getApp(store, id);
  if (!app) throw unknownApp(id);
  requireOwnApp(role, app);
  return app;
}

/** A vendor creates apps under its own name; an admin names the vendor. */
export async function createApp(store: Store, role: string, body: z.output<typeof appBody>): Promise<AppRecord> {
  const own = vendorOfRole(role);
  if (own !== undefined && body.vendor !== undefined && body.vendor !== own) {
    throw new HttpProblem(403, 'catalog.other_vendor', 'A vendor creates apps only under its own name', {
      detail: `vendor '${own}' may not create apps for '${body.vendor}'`,
    });
  }
  const vendor = own ?? body.vendor;
  if (vendor === undefined) throw validationProblem([{ field: 'vendor', message: 'required when the caller is not a vendor' }]);
  return store.transaction(async (tx) => {
    if (!(await catalog.getVendor(tx, vendor)))
      throw validationProblem([{ field: 'vendor', message: `no vendor '${vendor}' is registered` }], 'catalog.unknown_vendor');
    if (!(await catalog.insertApp(tx, { id: body.id, vendor, description: body.description }))) {
      throw new HttpProblem(409, 'catalog.app_exists', 'An app with that id exists', { detail: `app '${body.id}' exists` });
    }
    return (await catalog.getApp(tx, body.id))!;
  });
}

/**
 * A new version is what admission verified at `body.artifact`: digest, size and imports come
 * from the verified artifact, never from the vendor. Registry work happens before the one short
 * transaction that stores the row.
 */
export async function addVersion(
  store: Store,
  role: string,
  appId: string,
  body: z.output<typeof versionBody>,
  admission: ArtifactAdmission,
): Promise<AppVersionRecord> {
  const app = await getOwnApp(store, role, appId);
  if (await catalog.getVersion(store, appId, body.version)) throw versionExists(appId, body.version);
  const vendor = await catalog.getVendor(store, app.vendor);
  if (!vendor) throw validationProblem([{ field: 'vendor', message: `no vendor '${app.vendor}' is registered` }], 'catalog.unknown_vendor');
  // Copy into the mirror and commit of the row under the mirror's lock: no collection in between.
  return admission.holdingMirror(async () => {
    let admitted;
    try {
      admitted = await admission.admit(vendor, body.version, body.component.reference);
    } catch (err) {
      throw admissionRefusal(err, 'component.reference');
    }
    return store.transaction(async (tx) => {
      // The policy may have changed while the registry was being asked: admit only under the current one.
      const now = await catalog.getVendor(tx, app.vendor);
      if (JSON.stringify(now?.trustPolicy) !== JSON.stringify(vendor.trustPolicy)) {
        throw new HttpProblem(409, 'catalog.policy_changed', "The vendor's trust policy changed during admission", { detail: 'try again', retryable: true });
      }
      const record = { appId, version: body.version, component: admitted.component, imports: admitted.imports, verification: admitted.verification };
      if (!(await catalog.insertVersion(tx, record))) throw versionExists(appId, body.version);
      await catalog.insertVersionPackages(tx, appId, body.version, admitted.packages ?? []);
      return (await catalog.getVersion(tx, appId, body.version))!;
    });
  });
}

/**
 * Retires a version (docs/admission.md, "Retiring versions and mirror clean-up"): refused (409,
 * naming them) while any deployment still needs it, as its current version, an unfinished
 * rollout's target, the version a rollback returns to, or a placement. One transaction, under
 * the scheduler lock (rollouts and placements change under it) and the row's own lock (a new
 * deployment reading the row holds it FOR KEY SHARE until it commits). The same number can be
 * registered again afterwards: admission runs in full, and devices pull by digest.
 */
export async function retireVersion(store: Store, role: string, appId: string, version: string): Promise<AppVersionRecord> {
  await getOwnApp(store, role, appId);
  const checked = versionSchema.safeParse(version);
  if (!checked.success) {
    throw validationProblem([{ field: 'version', message: checked.error.issues[0]!.message }]);
  }
  return store.transaction(async (tx) => {
    await lockScheduler(tx);
    const row = await catalog.getVersion(tx, appId, version, 'update');
    if (!row) throw new HttpProblem(404, 'catalog.unknown_version', 'No such version', { detail: `app '${appId}' has no version '${version}'` });
    const users = await catalog.versionUsers(tx, appId, version);
    if (users.length > 0) {
      const named = users.map((u) => `${u.deploymentId} (${u.uses.join(', ')})`).join('; ');
      throw new HttpProblem(409, 'catalog.version_in_use', 'Deployments still use that version', {
        detail: `app '${appId}' version '${version}' is still needed by deployment${users.length > 1 ? 's' : ''} ${named}`,
        errors: users.map((u) => ({ field: `deployments.${u.deploymentId}`, message: `uses ${appId} ${version} as ${u.uses.join(', ')}` })),
      });
    }
    await catalog.deleteVersion(tx, appId, version);
    return row;
  });
}

const versionExists = (appId: string, version: string) =>
  new HttpProblem(409, 'catalog.version_exists', 'That version is registered already; versions are immutable', {
    detail: `app '${appId}' has version '${version}'`,
  });
