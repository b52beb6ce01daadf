import { z } from 'zod';
import { digestHex, type Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';

/** In-toto attestations: a statement about subjects, with a typed predicate (in-toto Statement v1). */
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

const statementSchema = z.object({
  _type: z.literal(IN_TOTO_STATEMENT_V1),
  subject: z
    .array(z.object({ name: z.string().optional(), digest: z.record(z.string(), z.string()) }))
    .min(1)
    .max(256),
  predicateType: z.string(),
  predicate: z.unknown(),
});
export type InTotoStatement = z.output<typeof statementSchema>;

/** A statement about one component, as `berth attest` writes them. */
export function statementAbout(name: string, digest: Digest, predicateType: string, predicate: unknown): Record<string, unknown> {
  return { _type: IN_TOTO_STATEMENT_V1, subject: [{ name, digest: { sha256: digestHex(digest) } }], predicateType, predicate };
}

/** A verified DSSE payload read as an in-toto v1 statement; `code` prefixes what is wrong (`provenance`, `sbom`). */
export function readStatement(payload: Buffer, code: string): InTotoStatement {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new BerthError(`${code}.invalid`, 'attestation payload is not JSON');
  }
  const statement = statementSchema.safeParse(json);
  if (!statement.success) throw new BerthError(`${code}.invalid`, `attestation is not an in-toto v1 statement: ${statement.error.issues[0]?.message ?? ''}`);
  return statement.data;
}

/** A signed statement about another digest is refused outright: it is a mix-up or an attack, never to be skipped quietly. */
export function checkSubject(statement: InTotoStatement, componentDigest: Digest, code: string, what: string): void {
  const hex = digestHex(componentDigest);
  if (statement.subject.some((s) => s.digest.sha256 === hex)) return;
  const named = statement.subject.map((s) => (s.digest.sha256 ? `sha256:${s.digest.sha256.slice(0, 64)}` : '(no sha256)')).join(', ');
  throw new BerthError(`${code}.subject-mismatch`, `${what} is about ${named}, not the component ${componentDigest}`);
}
