import { BerthError } from '../common/errors.js';
import { grantSetSchema, type GrantSet } from '../wire/grants.js';
import { GRANT_DEFINITIONS } from './grant-table/index.js';

/** Parses grants from any source (deployment JSON, CLI), naming the offending field on failure. */
export function parseGrants(input: unknown): GrantSet {
  const result = grantSetSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'grants';
    throw new BerthError('invalid-grant', `invalid grant ${where}: ${issue.message}`, {
      errors: result.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
    });
  }
  return result.data;
}

/** A copy safe to log: each grant as its table entry says it may be logged (secret config values replaced). */
export function describeGrants(grants: GrantSet): GrantSet {
  const described: Record<string, unknown> = { ...grants };
  for (const definition of GRANT_DEFINITIONS) {
    const grant = grants[definition.name];
    if (grant !== undefined && definition.forLog) described[definition.name] = (definition.forLog as (g: typeof grant) => unknown)(grant);
  }
  return described as GrantSet;
}
