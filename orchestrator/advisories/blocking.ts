import { HttpProblem } from '../http/problem.js';
import { listAdvisories } from '../store/advisories.js';
import type { Queryable } from '../store/store.js';
import { affects, purlsOf, versionRefOf } from './matching.js';

/** Every action but `warn` keeps new deployments, rollouts and rollbacks off an affected version. */
export const BLOCKING_ACTIONS = ['block', 'stop', 'rollback'] as const;

/**
 * Refuses (409) moving a deployment to `version` of `appId` while an advisory that blocks it
 * stands; `field` names what chose the version. Unknown apps and versions pass: the callers
 * report those with their own problems.
 */
export async function assertNotBlocked(q: Queryable, appId: string, version: string, field: string): Promise<void> {
  const advisories = await listAdvisories(q, BLOCKING_ACTIONS);
  if (advisories.length === 0) return;
  const v = await versionRefOf(q, appId, version, purlsOf(advisories));
  if (!v) return;
  const blocking = advisories.filter((a) => affects(a, v)).reverse();
  if (blocking.length === 0) return;
  const ids = blocking.map((a) => `${a.id} (${a.action})`).join(', ');
  throw new HttpProblem(409, 'deployment.version_affected', 'The version is affected by a security advisory', {
    detail: `version ${version} of app '${appId}' is affected by ${ids}`,
    errors: [{ field, message: `affected by ${ids}` }],
  });
}
