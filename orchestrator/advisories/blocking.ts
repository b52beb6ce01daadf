import { HttpProblem } from '../http/problem.js';
import type { AppVersionRecord } from '../store/catalog.js';
import * as catalog from '../store/catalog.js';
import { listAdvisories, type AdvisoryRecord } from '../store/advisories.js';
import type { Queryable } from '../store/store.js';
import { affects, type VersionRef } from './matching.js';

/** Every action but `warn` keeps new deployments, rollouts and rollbacks off an affected version. */
export const BLOCKING_ACTIONS = ['block', 'stop', 'rollback'] as const;

export function versionRef(v: AppVersionRecord, vendor: string): VersionRef {
  return {
    appId: v.appId,
    vendor,
    version: v.version,
    digest: v.component.digest,
    ...(v.verification ? { componentDigest: v.verification.componentDigest } : {}),
  };
}

/** The advisories that keep this version from being deployed, oldest first. */
export async function blockingAdvisories(q: Queryable, v: VersionRef): Promise<AdvisoryRecord[]> {
  return (await listAdvisories(q, BLOCKING_ACTIONS)).filter((a) => affects(a, v)).reverse();
}

/**
 * Refuses (409) moving a deployment to `version` of `appId` while an advisory that blocks it
 * stands; `field` names what chose the version. Unknown apps and versions pass: the callers
 * report those with their own problems.
 */
export async function assertNotBlocked(q: Queryable, appId: string, version: string, field: string): Promise<void> {
  const v = await catalog.getVersion(q, appId, version);
  const app = v && (await catalog.getApp(q, appId));
  if (!v || !app) return;
  const blocking = await blockingAdvisories(q, versionRef(v, app.vendor));
  if (blocking.length === 0) return;
  const ids = blocking.map((a) => `${a.id} (${a.action})`).join(', ');
  throw new HttpProblem(409, 'deployment.version_affected', 'The version is affected by a security advisory', {
    detail: `version ${version} of app '${appId}' is affected by ${ids}`,
    errors: [{ field, message: `affected by ${ids}` }],
  });
}
