import { z } from 'zod';
import { digestHex, type Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';
import { IN_TOTO_STATEMENT_V1, type InTotoStatement } from '../signing/statement.js';
import type { Artifacts, StepArtifacts } from './rule-engine.js';

/**
 * in-toto link attestations (in-toto attestation framework, predicate link v0.3): the statement's
 * subjects are the step's products, `predicate.materials` its materials, each a resource
 * descriptor with a SHA-256 digest; `predicate.name` is the step. The framework's Statement asks
 * for at least one subject; a link of a step that makes nothing (a test run) has none, and
 * Berth accepts that.
 */
export const IN_TOTO_LINK_V03 = 'https://in-toto.io/attestation/link/v0.3';

export interface NamedDigest {
  name: string;
  digest: Digest;
}

export interface LinkInput {
  step: string;
  materials: NamedDigest[];
  products: NamedDigest[];
  command?: string[];
}

const descriptor = (d: NamedDigest) => ({ name: d.name, digest: { sha256: digestHex(d.digest) } });

/** The statement `berth attest link` signs. */
export function linkStatement(input: LinkInput): Record<string, unknown> {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: input.products.map(descriptor),
    predicateType: IN_TOTO_LINK_V03,
    predicate: { name: input.step, command: input.command ?? [], materials: input.materials.map(descriptor), byproducts: {}, environment: {} },
  };
}

const resource = z.object({ name: z.string().min(1).max(1024), digest: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/u) }) });
const linkSchema = z.object({
  _type: z.literal(IN_TOTO_STATEMENT_V1),
  subject: z.array(resource).max(1024),
  predicateType: z.literal(IN_TOTO_LINK_V03),
  predicate: z.object({ name: z.string().min(1).max(64), materials: z.array(resource).max(1024).default([]) }),
});

/** What a link says: its step and artifacts. */
export interface LinkClaim extends StepArtifacts {
  step: string;
}

/** A signed payload read as a link, or `in_toto.bad_link` naming what is wrong. */
export function readLink(payload: Buffer, what: string): LinkClaim {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new BerthError('in_toto.bad_link', `${what}: the payload is not JSON`);
  }
  const link = linkSchema.safeParse(json);
  if (!link.success) {
    const issue = link.error.issues[0];
    throw new BerthError('in_toto.bad_link', `${what} is not an in-toto link statement: ${issue?.path.join('.') || 'top'}: ${issue?.message ?? 'invalid'}`);
  }
  const l = link.data;
  return { step: l.predicate.name, materials: artifacts(l.predicate.materials, `${what} materials`), products: artifacts(l.subject, `${what} products`) };
}

/**
 * A SLSA provenance read as the link of the layout step that names it: its subjects are the
 * products, its resolved dependencies with a SHA-256 digest the materials (a git commit is not
 * a digest of the artifact, so those are left out).
 */
export function provenanceClaim(statement: InTotoStatement, step: string): LinkClaim {
  const deps = (statement.predicate as { buildDefinition?: { resolvedDependencies?: unknown } } | undefined)?.buildDefinition?.resolvedDependencies;
  const materials = Array.isArray(deps)
    ? deps.flatMap((d: { name?: unknown; uri?: unknown; digest?: { sha256?: unknown } }) => {
        const name = typeof d?.name === 'string' ? d.name : typeof d?.uri === 'string' ? d.uri : undefined;
        return name && typeof d.digest?.sha256 === 'string' ? [{ name, digest: { sha256: d.digest.sha256 } }] : [];
      })
    : [];
  const products = statement.subject.flatMap((s) =>
    s.digest.sha256 ? [{ name: s.name ?? `sha256:${s.digest.sha256}`, digest: { sha256: s.digest.sha256 } }] : [],
  );
  return { step, materials: artifacts(materials, 'provenance materials'), products: artifacts(products, 'provenance subjects') };
}

/** Names are unique within a link: two digests for one name would make rules ambiguous. */
function artifacts(list: ReadonlyArray<{ name: string; digest: { sha256: string } }>, what: string): Artifacts {
  const map = new Map<string, string>();
  for (const a of list) {
    if (map.has(a.name)) throw new BerthError('in_toto.bad_link', `${what} name '${a.name.slice(0, 200)}' twice`);
    map.set(a.name, a.digest.sha256);
  }
  return map;
}
