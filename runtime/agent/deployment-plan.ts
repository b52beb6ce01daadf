import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isDigest, type Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';
import { parseReference, type Reference } from '../../oci/reference.js';
import { applicationDeploymentSchema, berthComponentExtensionSchema, berthProfileExtensionSchema } from '../../wire/margo/application-deployment.js';
import type { LoadedDocument } from './adopted-state.js';
import type { GrantSet } from '../../wire/grants.js';
import type { Limits } from '../../wire/limits.js';
import type { Tier } from '../../wire/tier.js';

/**
 * What the agent runs for one ApplicationDeployment: read from the document the control plane
 * signed (its digest is in the signed statement), so every field here, the vendor's trust
 * policy included, is covered by that signature.
 */
export interface DeploymentPlan {
  deploymentId: string;
  /** Digest of the document this plan was read from: a new one means "update". */
  documentDigest: Digest;
  vendor: string;
  app: string;
  version: string;
  component: { name: string; ref: Reference & { digest: Digest }; sizeBytes: number };
  /** Effective grants, as signed: the agent applies no default of its own. */
  grants: GrantSet;
  tier: Tier;
  limits: Limits | undefined;
  trustPolicy: unknown;
  /** Digests of this app that security advisories stop, with their ids: never started, not even as a fallback. */
  refusedDigests: ReadonlyMap<string, readonly string[]>;
}

/** The advisories that refuse `digest` under this plan's signed document, or undefined. */
export function refusedBy(plan: DeploymentPlan, digest: string): readonly string[] | undefined {
  return plan.refusedDigests.get(digest);
}

const profileExtension = berthProfileExtensionSchema.extend({ trustPolicy: z.record(z.string(), z.unknown()) });

export function planFromDocument(doc: LoadedDocument, deviceId: string): DeploymentPlan {
  const fail = (why: string): never => {
    throw new BerthError('agent.bad_deployment', `deployment '${doc.deploymentId}' (${doc.digest}): ${why}`);
  };
  let yaml: unknown;
  try {
    yaml = parseYaml(doc.bytes.toString('utf8'), { maxAliasCount: 100 });
  } catch (err) {
    return fail(`not YAML: ${(err as Error).message}`);
  }
  const parsed = applicationDeploymentSchema.safeParse(yaml);
  if (!parsed.success) return fail(`not an ApplicationDeployment: ${issues(parsed.error)}`);
  const d = parsed.data;
  if (d.metadata.deviceId !== deviceId) return fail(`it is for device '${d.metadata.deviceId}'`);
  if (d.metadata.annotations.id !== doc.deploymentId) return fail(`its annotations.id is '${d.metadata.annotations.id}'`);
  const profile = d.spec.deploymentProfile;
  if (profile.type !== 'custom') return fail(`profile type '${profile.type}' is not a Berth Wasm deployment`);
  const ext = profileExtension.safeParse((profile as Record<string, unknown>)['x-berth-extensions']);
  if (!ext.success) return fail(`deploymentProfile.x-berth-extensions: ${issues(ext.error)}`);
  if (profile.components.length !== 1) return fail(`it has ${profile.components.length} components; Berth runs exactly one per deployment`);
  const component = profile.components[0]!;
  const cext = berthComponentExtensionSchema.safeParse((component.properties as Record<string, unknown>)['x-berth-extensions']);
  if (!cext.success) return fail(`components.0.properties.x-berth-extensions: ${issues(cext.error)}`);
  if (!isDigest(cext.data.digest)) return fail(`component digest '${cext.data.digest}' is not sha256:<hex>`);
  let ref: Reference;
  try {
    ref = parseReference(component.properties.repository);
  } catch (err) {
    return fail(`repository: ${(err as Error).message}`);
  }
  return {
    deploymentId: doc.deploymentId,
    documentDigest: doc.digest,
    vendor: ext.data.vendor,
    app: component.name,
    version: component.properties.revision,
    component: { name: component.name, ref: { registry: ref.registry, repository: ref.repository, digest: cext.data.digest }, sizeBytes: cext.data.sizeBytes },
    grants: ext.data.grants,
    tier: ext.data.tier,
    limits: ext.data.limits,
    trustPolicy: ext.data.trustPolicy,
    refusedDigests: new Map((ext.data.refusedDigests ?? []).map((r) => [r.digest, r.advisories])),
  };
}

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`)
    .join('; ');
}
