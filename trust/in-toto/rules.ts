/**
 * in-toto v1 artifact rules (in-toto specification §4.3.3), the subset Berth supports:
 *
 *   MATCH <pattern> [IN <prefix>] WITH (MATERIALS|PRODUCTS) [IN <prefix>] FROM <step>
 *   CREATE <pattern>   DELETE <pattern>   MODIFY <pattern>
 *   ALLOW <pattern>    DISALLOW <pattern> REQUIRE <name>
 *
 * A layout may write a rule as the specification's token list (`["CREATE", "*"]`) or as one
 * string (`"CREATE *"`); both become the same tokens.
 */
export type ArtifactKind = 'MATERIALS' | 'PRODUCTS';

export type ArtifactRule =
  | { type: 'MATCH'; pattern: string; sourcePrefix: string; kind: ArtifactKind; destinationPrefix: string; step: string }
  | { type: 'CREATE' | 'DELETE' | 'MODIFY' | 'ALLOW' | 'DISALLOW' | 'REQUIRE'; pattern: string };

const SIMPLE = new Set(['CREATE', 'DELETE', 'MODIFY', 'ALLOW', 'DISALLOW', 'REQUIRE']);

export type RuleText = string | readonly string[];

export function ruleTokens(rule: RuleText): string[] {
  return typeof rule === 'string' ? rule.trim().split(/\s+/u) : [...rule];
}

/** A rule's tokens read, or an Error saying what is wrong (the layout schema turns it into a policy refusal). */
export function parseRule(rule: RuleText): ArtifactRule {
  const tokens = ruleTokens(rule);
  const type = tokens[0]?.toUpperCase() ?? '';
  if (SIMPLE.has(type)) {
    if (tokens.length !== 2) throw new Error(`${type} takes one pattern: '${type} <pattern>'`);
    return { type: type as 'CREATE', pattern: checkedPattern(tokens[1]!) };
  }
  if (type === 'MATCH') return parseMatch(tokens);
  throw new Error(`'${tokens[0] ?? ''}' is not a supported rule (MATCH, CREATE, DELETE, MODIFY, ALLOW, DISALLOW, REQUIRE)`);
}

/** MATCH pattern [IN prefix] WITH kind [IN prefix] FROM step: the optional parts shift the positions. */
function parseMatch(tokens: string[]): ArtifactRule {
  const usage = 'MATCH <pattern> [IN <prefix>] WITH (MATERIALS|PRODUCTS) [IN <prefix>] FROM <step>';
  const rest = tokens.slice(2);
  let sourcePrefix = '';
  if (rest[0]?.toUpperCase() === 'IN') sourcePrefix = rest.splice(0, 2)[1] ?? '';
  if (rest[0]?.toUpperCase() !== 'WITH') throw new Error(`expected WITH: ${usage}`);
  const kind = rest[1]?.toUpperCase();
  if (kind !== 'MATERIALS' && kind !== 'PRODUCTS') throw new Error(`expected MATERIALS or PRODUCTS after WITH: ${usage}`);
  rest.splice(0, 2);
  let destinationPrefix = '';
  if (rest[0]?.toUpperCase() === 'IN') destinationPrefix = rest.splice(0, 2)[1] ?? '';
  if (rest.length !== 2 || rest[0]!.toUpperCase() !== 'FROM' || !rest[1]) throw new Error(`expected FROM <step> at the end: ${usage}`);
  return { type: 'MATCH', pattern: checkedPattern(tokens[1] ?? ''), sourcePrefix, kind, destinationPrefix, step: rest[1] };
}

function checkedPattern(pattern: string): string {
  if (!pattern) throw new Error('a rule needs a pattern');
  if (/[[\]]/u.test(pattern)) throw new Error(`pattern '${pattern}': character classes ([...]) are not supported, only * and ?`);
  return pattern;
}
