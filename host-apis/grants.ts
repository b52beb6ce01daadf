import { BerthError } from '../common/errors.js';
import { grantSetSchema, type GrantSet } from '../wire/grants.js';

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

/** A copy safe to log: secret config values replaced. */
export function describeGrants(grants: GrantSet): GrantSet {
  if (!grants.config) return grants;
  const secrets = new Set(grants.config.secrets);
  const values = Object.fromEntries(Object.entries(grants.config.values).map(([k, v]) => [k, secrets.has(k) ? '[secret]' : v]));
  return { ...grants, config: { ...grants.config, values } };
}
