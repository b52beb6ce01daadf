import { BerthError, errorCode } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ArtifactSource } from '../../oci/source.js';
import { verifyDeploymentArtifact } from '../../trust/signing/deployment-artifact.js';
import { compilePolicy } from '../../trust/signing/policy.js';
import type { CompiledRoots } from '../../trust/signing/roots.js';
import { describeSigner } from '../../trust/signing/verify.js';
import type { ArtifactStore } from './artifact-store.js';
import type { DeploymentPlan } from './deployment-plan.js';

/**
 * How getting one component ended: `cached` (verified before, bytes re-checked from the local
 * store), `verified` (pulled and verified now), `failed` (refused or not reachable: `code` says which).
 */
export interface ArtifactOutcome {
  result: 'cached' | 'verified' | 'failed';
  code?: string;
  /** Time spent, the pull included. */
  seconds: number;
}

/**
 * The component of a deployment, verified: from the local store when it was verified before
 * against the same policy (bytes re-checked by digest), otherwise pulled by digest and verified
 * against the vendor trust policy carried in the signed deployment (certificate-signed bundles
 * against the fleet signing roots pinned at onboarding), then stored.
 */
export async function obtainComponent(
  plan: DeploymentPlan,
  store: ArtifactStore,
  source: ArtifactSource | undefined,
  logger: Logger,
  roots?: CompiledRoots,
  onOutcome?: (outcome: ArtifactOutcome) => void,
): Promise<Buffer> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  try {
    const { component, pulled } = await obtain(plan, store, source, logger, roots);
    onOutcome?.({ result: pulled ? 'verified' : 'cached', seconds: seconds() });
    return component;
  } catch (err) {
    onOutcome?.({ result: 'failed', code: errorCode(err, 'agent.install_failed'), seconds: seconds() });
    throw err;
  }
}

async function obtain(
  plan: DeploymentPlan,
  store: ArtifactStore,
  source: ArtifactSource | undefined,
  logger: Logger,
  roots: CompiledRoots | undefined,
): Promise<{ component: Buffer; pulled: boolean }> {
  const policy = compilePolicy(plan.trustPolicy);
  if (policy.vendor !== plan.vendor) {
    throw new BerthError(
      'agent.policy_vendor',
      `deployment ${plan.deploymentId}: the trust policy is vendor '${policy.vendor}''s, the app is vendor '${plan.vendor}''s`,
    );
  }
  const held = await store.get(plan.component.ref.digest, policy.fingerprint);
  if (held) return { component: held.component, pulled: false };
  if (!source)
    throw new BerthError(
      'agent.artifact_not_cached',
      `deployment ${plan.deploymentId}: ${plan.component.ref.digest} is not in the local store and the agent is offline`,
    );
  const started = Date.now();
  const { registry, repository, digest } = plan.component.ref;
  const artifact = await verifyDeploymentArtifact(source, { repository: `oci://${registry}/${repository}`, digest }, plan.trustPolicy, undefined, {
    vendor: plan.vendor,
    ...(roots ? { roots } : {}),
  });
  await store.put(
    {
      manifestDigest: artifact.manifestDigest,
      componentDigest: artifact.verified.componentDigest,
      vendor: plan.vendor,
      signer: describeSigner(artifact.verified.signer),
      policyFingerprint: policy.fingerprint,
      verifiedAt: new Date().toISOString(),
    },
    artifact.component,
  );
  logger.info(
    {
      deploymentId: plan.deploymentId,
      vendor: plan.vendor,
      app: plan.app,
      digest: artifact.manifestDigest,
      signer: describeSigner(artifact.verified.signer),
      ms: Date.now() - started,
    },
    'artifact pulled and verified',
  );
  return { component: artifact.component, pulled: true };
}
