import { vendorOfAdvisoryId, type Affected } from '../../wire/advisory.js';
import { vendorOfRole } from '../catalog/access.js';
import type { DesiredStateChanged } from '../desired-state/placement.js';
import { HttpProblem, validationProblem } from '../http/problem.js';
import * as catalog from '../store/catalog.js';
import { getAdvisory, insertAdvisory, listAdvisories, type AdvisoryRecord } from '../store/advisories.js';
import type { Queryable, Store } from '../store/store.js';
import { affectedVersions, candidateVersions, type VersionRef } from './matching.js';
import { rollBackAffected, stoppedDeployments, type AdvisoryMove, type StoppedDeployment } from './rollback.js';
import { devicesOfApps, REFUSING_ACTIONS } from './refused-digests.js';
import type { AdvisoryBody } from './schema.js';

/** An advisory as the API shows it: the record and the admitted versions it affects now. */
export interface AdvisoryView extends AdvisoryRecord {
  affectedVersions: { app: string; version: string; digest: string }[];
}

/** What creating an advisory did. */
export interface AdvisoryCreated extends AdvisoryView {
  /** `rollback`: deployments moved to an unaffected version. */
  moved: AdvisoryMove[];
  /** `stop`, and `rollback` where no version was left: deployments whose devices now stop the app. */
  stopped: StoppedDeployment[];
}

const view = (a: AdvisoryRecord, versions: readonly VersionRef[]): AdvisoryView => ({
  ...a,
  affectedVersions: versions.map((v) => ({ app: v.appId, version: v.version, digest: v.digest })),
});

/**
 * Files an advisory and applies its action in one transaction: stored, matched against the
 * admitted versions, and, for `rollback`, every affected deployment moved; or nothing at all.
 * An admin may file any advisory; a vendor only one that names its own apps and artifacts.
 */
export async function createAdvisory(store: Store, role: string, by: string, body: AdvisoryBody, changed: DesiredStateChanged): Promise<AdvisoryCreated> {
  const vendor = vendorOfRole(role);
  const idVendor = vendorOfAdvisoryId(body.id);
  if (vendor !== undefined && idVendor !== undefined && idVendor !== vendor) {
    throw new HttpProblem(403, 'advisory.other_vendor', 'A vendor files advisories under its own name or a CVE or GHSA id', {
      detail: `vendor '${vendor}' may not file '${body.id}'`,
    });
  }
  return store.transaction(async (tx) => {
    await checkScope(tx, vendor, body);
    const record: Omit<AdvisoryRecord, 'createdAt' | 'notAffected'> = {
      id: body.id,
      summary: body.summary,
      severity: body.severity,
      cvss: body.cvss ?? null,
      affected: body.affected,
      action: body.action,
      references: body.references,
      vendor: vendor ?? null,
      createdBy: by,
    };
    if (!(await insertAdvisory(tx, record))) {
      throw new HttpProblem(409, 'advisory.exists', 'An advisory with that id exists', { detail: `advisory '${body.id}' exists; advisories are not replaced` });
    }
    const stored = (await getAdvisory(tx, body.id))!;
    const versions = await affectedVersions(tx, stored);
    const acted = (REFUSING_ACTIONS as readonly string[]).includes(stored.action) ? await refuse(tx, stored, versions, changed) : { moved: [], stopped: [] };
    return { ...view(stored, versions), ...acted };
  });
}

/**
 * `stop` and `rollback`: deployments moved (rollback), then every device with a placement of an
 * affected app told, in its signed documents, which digests it must never start again.
 */
async function refuse(
  tx: Queryable,
  advisory: AdvisoryRecord,
  versions: readonly VersionRef[],
  changed: DesiredStateChanged,
): Promise<{ moved: AdvisoryMove[]; stopped: StoppedDeployment[] }> {
  const moved = advisory.action === 'rollback' ? (await rollBackAffected(tx, advisory, versions, changed)).moved : [];
  const apps = [...new Set(versions.map((v) => v.appId))];
  const told = new Set(moved.flatMap((m) => m.devices));
  const rest = (await devicesOfApps(tx, apps)).filter((d) => !told.has(d));
  if (rest.length > 0) await changed(tx, rest);
  return { moved, stopped: await stoppedDeployments(tx, apps, new Set(versions.map((v) => `${v.appId}@${v.version}`))) };
}

/** Every app named exists; a vendor names only its own apps and artifacts. */
async function checkScope(tx: Queryable, vendor: string | undefined, body: AdvisoryBody): Promise<void> {
  for (const [i, a] of body.affected.entries()) {
    if (a.app === undefined) continue;
    const app = await catalog.getApp(tx, a.app);
    if (!app) throw validationProblem([{ field: `affected.${i}.app`, message: `no app '${a.app}'` }], 'advisory.unknown_app');
    if (vendor !== undefined && app.vendor !== vendor) {
      throw new HttpProblem(403, 'catalog.other_vendor', 'The app belongs to another vendor', {
        detail: `vendor '${vendor}' may not file an advisory on app '${a.app}'`,
      });
    }
  }
  if (vendor === undefined) return;
  const foreign = (await candidateVersions(tx, { affected: body.affected.filter((a) => a.digests), vendor: null })).filter((v) => v.vendor !== vendor);
  if (foreign.length > 0) {
    throw new HttpProblem(403, 'catalog.other_vendor', "A digest names another vendor's artifact", {
      detail: `vendor '${vendor}' may not file an advisory on ${foreign[0]!.digest} (app '${foreign[0]!.appId}')`,
    });
  }
}

export async function listAdvisoriesFor(store: Store, role: string): Promise<AdvisoryView[]> {
  const out: AdvisoryView[] = [];
  for (const a of await listAdvisories(store)) {
    const shown = await visible(store, a, role);
    if (shown) out.push(shown);
  }
  return out;
}

export async function showAdvisory(store: Store, role: string, id: string): Promise<AdvisoryView> {
  const a = await getAdvisory(store, id);
  const shown = a && (await visible(store, a, role));
  if (!shown) throw new HttpProblem(404, 'advisory.unknown', 'No such advisory', { detail: `no advisory '${id}'` });
  return shown;
}

/**
 * A vendor sees the advisories it filed, and an admin's that name one of its apps or affect its
 * versions, with the affected versions trimmed to its own; nothing of another vendor's.
 * Admins and operators see everything.
 */
async function visible(q: Queryable, a: AdvisoryRecord, role: string): Promise<AdvisoryView | undefined> {
  const vendor = vendorOfRole(role);
  const versions = await affectedVersions(q, a);
  if (vendor === undefined || a.vendor === vendor) return view(a, versions);
  if (a.vendor !== null) return undefined;
  const own = versions.filter((v) => v.vendor === vendor);
  const ownApps = new Set((await catalog.listApps(q, vendor)).map((app) => app.id));
  if (own.length === 0 && !a.affected.some((x) => x.app !== undefined && ownApps.has(x.app))) return undefined;
  return {
    ...view(a, own),
    affected: trimmed(a.affected, ownApps, new Set(own.flatMap((v) => [v.digest, ...(v.componentDigest ? [v.componentDigest] : [])]))),
  };
}

/** An admin's advisory as a vendor sees it: only the entries about its own apps and artifacts. */
function trimmed(affected: readonly Affected[], apps: ReadonlySet<string>, digests: ReadonlySet<string>): Affected[] {
  return affected.flatMap((x) => {
    if (x.app !== undefined) return apps.has(x.app) ? [x] : [];
    if (x.digests) {
      const own = x.digests.filter((d) => digests.has(d));
      return own.length > 0 ? [{ digests: own }] : [];
    }
    return [x];
  });
}
