import { errorCode, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { AdoptedState } from './adopted-state.js';
import { planFromDocument, type DeploymentPlan } from './deployment-plan.js';
import { pollDesiredState, type FollowerContext } from './desired-state-follower.js';

/** Component digest → the advisories that refuse it. */
export type RefusedDigests = ReadonlyMap<string, readonly string[]>;

/**
 * Before the offline restore, one bounded look at the current desired state: a device switched
 * off while an advisory was filed would otherwise start the affected digest from its last adopted
 * state and run it until its first sync. Only the refusals are taken from what is found; adopting
 * the new state stays the sync loop's job. Unreachable, slow or refused answers yield nothing, so
 * an offline device restores as before after at most `seconds`.
 */
export async function currentRefusals(
  follower: FollowerContext,
  adopted: AdoptedState,
  deviceId: string,
  seconds: number,
  logger: Logger,
): Promise<RefusedDigests | undefined> {
  if (seconds <= 0 || follower.keys().length === 0) return undefined;
  try {
    const result = await pollDesiredState(follower, { etag: adopted.etag, manifestVersion: adopted.manifestVersion }, 0, AbortSignal.timeout(seconds * 1000));
    if (result.kind === 'unchanged') return undefined;
    const refused = new Map<string, readonly string[]>();
    for (const d of result.state.documents) for (const [digest, advisories] of planFromDocument(d, deviceId).refusedDigests) refused.set(digest, advisories);
    logger.info({ manifestVersion: result.state.manifestVersion, refused: refused.size }, 'newer desired state seen before the offline restore');
    return refused;
  } catch (err) {
    logger.info(
      { code: errorCode(err, 'network'), err: errorMessage(err) },
      'control plane not reached before the offline restore; restoring the adopted state',
    );
    return undefined;
  }
}

/** The restored plans, each also refusing what the current desired state refuses. */
export function withRefusals(plans: DeploymentPlan[], refused: RefusedDigests | undefined): DeploymentPlan[] {
  if (!refused || refused.size === 0) return plans;
  return plans.map((p) => ({ ...p, refusedDigests: new Map([...p.refusedDigests, ...refused]) }));
}
