import { BerthError } from '../../common/errors.js';
import { matchesPattern } from './pattern.js';
import type { ArtifactKind, ArtifactRule } from './rules.js';

/** Artifact name → hex SHA-256, as a link records its materials or products. */
export type Artifacts = ReadonlyMap<string, string>;

/** What one step's links recorded (threshold links of a step record the same). */
export interface StepArtifacts {
  materials: Artifacts;
  products: Artifacts;
}

/**
 * Applies one step's expected materials or products rules the way in-toto v1 does: each
 * artifact starts in a queue; rules, in order, consume the artifacts they account for; DISALLOW
 * refuses any artifact still queued that it matches, REQUIRE one that is not there. What is
 * left at the end is allowed, as in the specification, so a strict layout ends with DISALLOW *.
 */
export function checkRules(
  step: string,
  kind: ArtifactKind,
  rules: readonly ArtifactRule[],
  own: StepArtifacts,
  steps: ReadonlyMap<string, StepArtifacts>,
): void {
  const artifacts = kind === 'MATERIALS' ? own.materials : own.products;
  const queue = new Set(artifacts.keys());
  for (const rule of rules) {
    for (const name of consumedBy(rule, queue, artifacts, own, steps, `step '${step}' ${kind.toLowerCase()}`)) queue.delete(name);
  }
}

/** The queued names a rule accounts for; DISALLOW and REQUIRE throw instead when violated. */
function consumedBy(
  rule: ArtifactRule,
  queue: ReadonlySet<string>,
  artifacts: Artifacts,
  own: StepArtifacts,
  steps: ReadonlyMap<string, StepArtifacts>,
  where: string,
): string[] {
  if (rule.type === 'REQUIRE') {
    if (!queue.has(rule.pattern)) violated(where, `REQUIRE ${rule.pattern}: no such artifact`);
    return [];
  }
  if (rule.type === 'MATCH') return matched(rule, queue, artifacts, steps);
  const filtered = [...queue].filter((name) => matchesPattern(rule.pattern, name));
  switch (rule.type) {
    case 'ALLOW':
      return filtered;
    case 'DISALLOW':
      if (filtered.length > 0) violated(where, `DISALLOW ${rule.pattern}: ${filtered.slice(0, 5).join(', ')} not accounted for by an earlier rule`);
      return [];
    case 'CREATE':
      return filtered.filter((n) => own.products.has(n) && !own.materials.has(n));
    case 'DELETE':
      return filtered.filter((n) => own.materials.has(n) && !own.products.has(n));
    case 'MODIFY':
      return filtered.filter((n) => own.materials.has(n) && own.products.has(n) && own.materials.get(n) !== own.products.get(n));
  }
}

/** MATCH: an artifact is accounted for when the named step recorded the same name (prefixes swapped) with the same digest. */
function matched(
  rule: Extract<ArtifactRule, { type: 'MATCH' }>,
  queue: ReadonlySet<string>,
  artifacts: Artifacts,
  steps: ReadonlyMap<string, StepArtifacts>,
): string[] {
  const other = steps.get(rule.step);
  if (!other) return [];
  const theirs = rule.kind === 'MATERIALS' ? other.materials : other.products;
  const source = directory(rule.sourcePrefix);
  const destination = directory(rule.destinationPrefix);
  return [...queue].filter((name) => {
    if (!name.startsWith(source)) return false;
    const rest = name.slice(source.length);
    return matchesPattern(rule.pattern, rest) && theirs.get(destination + rest) === artifacts.get(name);
  });
}

/** A prefix names a directory: `src` and `src/` are the same. */
function directory(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

function violated(where: string, why: string): never {
  throw new BerthError('in_toto.rule_violated', `${where}: ${why}`);
}
