import { z } from 'zod';
import type { Digest } from '../../common/digest.js';
import { checkSubject, statementAbout, type InTotoStatement } from './statement.js';
import { BerthError } from '../../common/errors.js';
import type { CompiledPolicy } from './policy.js';
import { truncateText } from '../../common/text.js';

/** In-toto statements with a SLSA provenance v1 predicate, as `berth attest` writes them. */
export { IN_TOTO_STATEMENT_V1 } from './statement.js';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const BERTH_BUILD_TYPE = 'https://berth.dev/build/wasm-component/v1';

export interface ProvenanceInput {
  /** Subject name, usually the component file name. */
  name: string;
  digest: Digest;
  builderId: string;
  sourceRepository?: string;
  sourceRevision?: string;
  buildType?: string;
  startedOn?: Date;
  finishedOn?: Date;
}

export function provenanceStatement(input: ProvenanceInput): Record<string, unknown> {
  const externalParameters: Record<string, unknown> = {};
  if (input.sourceRepository) externalParameters.source = { uri: input.sourceRepository, ...(input.sourceRevision ? { revision: input.sourceRevision } : {}) };
  const metadata: Record<string, string> = {};
  if (input.startedOn) metadata.startedOn = input.startedOn.toISOString();
  if (input.finishedOn) metadata.finishedOn = input.finishedOn.toISOString();
  return statementAbout(input.name, input.digest, SLSA_PROVENANCE_V1, {
    buildDefinition: {
      buildType: input.buildType ?? BERTH_BUILD_TYPE,
      externalParameters,
      ...(input.sourceRepository && input.sourceRevision
        ? { resolvedDependencies: [{ uri: input.sourceRepository, digest: { gitCommit: input.sourceRevision } }] }
        : {}),
    },
    runDetails: { builder: { id: input.builderId }, metadata },
  });
}

const slsaSchema = z.object({
  buildDefinition: z.object({
    buildType: z.string(),
    externalParameters: z.record(z.string(), z.unknown()),
  }),
  runDetails: z.object({ builder: z.object({ id: z.string().min(1) }) }),
});

export interface Provenance {
  builderId: string;
  sourceRepository?: string;
}

/**
 * Checks a verified statement for what @sigstore/verify does not: that it is about this
 * component (subject digest) and that it meets the vendor's requirements.
 */
export function checkProvenanceStatement(statement: InTotoStatement, componentDigest: Digest, policy: CompiledPolicy): Provenance {
  checkSubject(statement, componentDigest, 'provenance', 'provenance statement');
  if (statement.predicateType !== SLSA_PROVENANCE_V1) {
    throw new BerthError('provenance.invalid', `attestation predicate is '${truncateText(statement.predicateType, 100)}', expected ${SLSA_PROVENANCE_V1}`);
  }
  const slsa = slsaSchema.safeParse(statement.predicate);
  if (!slsa.success) throw new BerthError('provenance.invalid', `SLSA provenance predicate is malformed at ${slsa.error.issues[0]?.path.join('.') ?? '?'}`);
  const builderId = slsa.data.runDetails.builder.id;
  const sourceRepository = sourceOf(slsa.data.buildDefinition.externalParameters);
  if (policy.builderIds && !policy.builderIds.some((re) => re.test(builderId))) {
    throw new BerthError(
      'provenance.builder',
      `component was built by '${truncateText(builderId, 200)}', which vendor '${policy.vendor}' does not trust as a builder`,
    );
  }
  if (policy.sourceRepositories && !(sourceRepository && policy.sourceRepositories.some((re) => re.test(sourceRepository)))) {
    throw new BerthError(
      'provenance.source',
      `component was built from ${sourceRepository ? `'${truncateText(sourceRepository, 200)}'` : 'an unnamed source'}, not a source repository vendor '${policy.vendor}' allows`,
    );
  }
  return sourceRepository ? { builderId, sourceRepository } : { builderId };
}

/** Berth writes `externalParameters.source.uri`; GitHub's builder writes `workflow.repository`. */
function sourceOf(params: Record<string, unknown>): string | undefined {
  const source = params.source;
  if (typeof source === 'string') return source;
  if (source && typeof source === 'object' && typeof (source as { uri?: unknown }).uri === 'string') return (source as { uri: string }).uri;
  const workflow = params.workflow as { repository?: unknown } | undefined;
  return typeof workflow?.repository === 'string' ? workflow.repository : undefined;
}
