import { createHash, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { BerthError } from '../../common/errors.js';
import { keyIdOf, loadPublicKey } from './keys.js';
import { truncateText } from '../../common/text.js';
import { compileLayout, layoutSchema, type CompiledLayout } from '../in-toto/layout.js';

/**
 * A vendor's trust policy, kept by the control plane per vendor and carried to devices in the
 * signed desired state. Either public keys (several at once, so a vendor can rotate without
 * downtime) or certificate identities from the fleet signing CA; plus optional provenance
 * requirements, and optionally an in-toto layout the version's attestations must satisfy
 * (docs/in-toto.md). Every pattern is a regular expression anchored at both ends.
 */
const pattern = z.string().min(1).max(512);

export const vendorTrustPolicySchema = z
  .object({
    vendor: z.string().min(1).max(128),
    publicKeys: z.array(z.string().min(1).max(4096)).max(16).default([]),
    identities: z
      .array(z.object({ subject: pattern, issuer: pattern }))
      .max(16)
      .default([]),
    /** Where this vendor's apps may come from: `host[:port]/repository` patterns (its namespace). */
    repositories: z.array(pattern).max(16).optional(),
    require: z
      .object({
        provenance: z.boolean().default(false),
        builderIds: z.array(pattern).max(16).optional(),
        sourceRepositories: z.array(pattern).max(16).optional(),
        /** Every version must carry a vendor-signed CycloneDX SBOM (docs/sbom.md). Optional, not defaulted, so older policies keep their fingerprints. */
        sbom: z.boolean().optional(),
      })
      .strict()
      .default({ provenance: false }),
    /** The vendor's supply chain as an in-toto layout, checked at admission (trust/in-toto/). */
    layout: layoutSchema.optional(),
  })
  .strict()
  .refine((p) => p.publicKeys.length + p.identities.length > 0, 'a policy needs at least one public key or certificate identity');

export type VendorTrustPolicyInput = z.input<typeof vendorTrustPolicySchema>;
export type VendorTrustPolicy = z.output<typeof vendorTrustPolicySchema>;

/** A policy checked and compiled once: keys parsed, patterns anchored, a fingerprint for caching. */
export interface CompiledPolicy {
  vendor: string;
  keys: Map<string, KeyObject>;
  identities: Array<{ subject: RegExp; issuer: RegExp; text: string }>;
  requireProvenance: boolean;
  requireSbom: boolean;
  builderIds: RegExp[] | undefined;
  sourceRepositories: RegExp[] | undefined;
  repositories: RegExp[] | undefined;
  layout: CompiledLayout | undefined;
  /** SHA-256 of the parsed policy (zod output has schema key order, so equal policies hash alike). */
  fingerprint: string;
}

export function anchored(source: string, what: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch {
    throw new BerthError('policy.invalid', `${what} '${truncateText(source, 100)}' is not a valid regular expression`);
  }
}

export function compilePolicy(input: unknown): CompiledPolicy {
  const parsed = vendorTrustPolicySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BerthError(
      'policy.invalid',
      `vendor trust policy is invalid${issue?.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const p = parsed.data;
  const keys = new Map<string, KeyObject>();
  p.publicKeys.forEach((pem, i) => {
    const key = loadPublicKey(pem, `public key ${i + 1} of vendor '${p.vendor}'`);
    keys.set(keyIdOf(key), key);
  });
  return {
    vendor: p.vendor,
    keys,
    identities: p.identities.map((id) => ({
      subject: anchored(id.subject, 'identity subject pattern'),
      issuer: anchored(id.issuer, 'identity issuer pattern'),
      text: `${id.subject} from ${id.issuer}`,
    })),
    requireProvenance: p.require.provenance || p.require.builderIds !== undefined || p.require.sourceRepositories !== undefined,
    requireSbom: p.require.sbom === true,
    builderIds: p.require.builderIds?.map((s) => anchored(s, 'builder id pattern')),
    sourceRepositories: p.require.sourceRepositories?.map((s) => anchored(s, 'source repository pattern')),
    repositories: p.repositories?.map((s) => anchored(s, 'repository pattern')),
    layout: p.layout ? compileLayout(p.layout, keys) : undefined,
    fingerprint: createHash('sha256').update(JSON.stringify(p)).digest('hex'),
  };
}

/** A vendor publishes only in its own namespace: the artifact's `host/repository` must match. */
export function checkNamespace(policy: CompiledPolicy, registry: string, repository: string): void {
  if (!policy.repositories) return;
  const where = `${registry}/${repository}`;
  if (!policy.repositories.some((re) => re.test(where))) {
    throw new BerthError('policy.namespace', `${where} is outside vendor '${policy.vendor}''s namespace`);
  }
}
