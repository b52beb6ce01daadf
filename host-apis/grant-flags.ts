import { BerthError } from '../common/errors.js';
import type { GrantSet } from '../wire/grants.js';
import { GRANT_DEFINITIONS } from './grant-table/index.js';
import type { FlagParser, RawGrants } from './grant-table/definition.js';
import { parseGrants } from './grants.js';

export { parseSize } from './grant-size.js';

/** Every `--grant` flag name, from the grant table: a grant's own name first, then its aliases. */
const FLAGS: ReadonlyMap<string, FlagParser> = new Map(GRANT_DEFINITIONS.flatMap((d) => Object.entries(d.flags)));
const FLAG_NAMES = [...GRANT_DEFINITIONS.map((d) => d.name), ...[...FLAGS.keys()].filter((f) => !GRANT_DEFINITIONS.some((d) => d.name === f))];

/**
 * Grants from the command line, `--grant NAME[=VALUE]`, for trying an app locally; each grant's
 * spelling is in its table entry (host-apis/grant-table/), listed by `grantFlagUsage`.
 * QUOTA is bytes with an optional K, M or G suffix.
 */
export function grantsFromFlags(flags: string[]): GrantSet {
  const raw: RawGrants = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq === -1 ? flag : flag.slice(0, eq);
    const value = eq === -1 ? undefined : flag.slice(eq + 1);
    const parse = FLAGS.get(name);
    if (!parse) throw new BerthError('invalid-grant', `unknown grant "${name}"; known grants: ${FLAG_NAMES.join(', ')}`);
    parse(value, raw, name);
  }
  return parseGrants(raw);
}

/** One line per grant, for `--help`. */
export function grantFlagUsage(): string[] {
  return GRANT_DEFINITIONS.map((d) => d.usage);
}
