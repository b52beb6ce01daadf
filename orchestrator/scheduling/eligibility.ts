import { parsePointer, resolvePointer } from './json-pointer.js';

/** Margo's selector vocabulary (margo-wfm.md "deviceConstraints"). */
export const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt', 'ContainsAll', 'ContainsAny'] as const;
export type Operator = (typeof OPERATORS)[number];
export type SelectorValue = string | number | boolean;

export interface MatchExpression {
  key: string;
  operator: Operator;
  values?: SelectorValue[];
}
export interface Selector {
  matchExpressions: MatchExpression[];
}
export interface EligibilityRule {
  propertySelector?: Selector;
  labelSelector?: Selector;
}

/** What a selector is evaluated against: the reported capabilities and the device's labels. */
export interface DeviceFacts {
  capabilities: unknown;
  labels: Record<string, unknown>;
}

/** Checks one expression's shape; returns a message or undefined. Run at admission, not per device. */
export function expressionProblem(e: MatchExpression, keyIsPointer: boolean): string | undefined {
  if (keyIsPointer) {
    try {
      parsePointer(e.key);
    } catch (err) {
      return (err as Error).message;
    }
  }
  const n = e.values?.length ?? 0;
  switch (e.operator) {
    case 'Exists':
    case 'DoesNotExist':
      return n === 0 ? undefined : `${e.operator} takes no values`;
    case 'Gt':
    case 'Lt':
      if (n !== 1) return `${e.operator} takes exactly one value`;
      return toNumber(e.values![0]) === undefined ? `${e.operator} needs a numeric value` : undefined;
    default:
      return n > 0 ? undefined : `${e.operator} needs at least one value`;
  }
}

/** Numbers, or strings that are entirely a finite decimal number; anything else is not comparable. */
function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

/** Scalars compare as their string form (selector values are strings in Margo, labels may be numbers). */
const scalar = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

/**
 * One expression against one actual value (`undefined` = absent). Kubernetes semantics where
 * Margo is silent: NotIn and DoesNotExist match an absent key; In matches a scalar in the set or a
 * list with any member in it; ContainsAll/ContainsAny need a list; Gt/Lt need numbers on both sides.
 * A type mismatch is a no-match, never an error: a device's report cannot fail a deployment.
 */
export function matchValue(actual: unknown, e: MatchExpression): boolean {
  const wanted = new Set((e.values ?? []).map(String));
  const items = Array.isArray(actual) ? actual.map(scalar) : undefined;
  switch (e.operator) {
    case 'Exists':
      return actual !== undefined && actual !== null;
    case 'DoesNotExist':
      return actual === undefined || actual === null;
    case 'In': {
      if (items) return items.some((i) => i !== undefined && wanted.has(i));
      const s = scalar(actual);
      return s !== undefined && wanted.has(s);
    }
    case 'NotIn': {
      if (actual === undefined || actual === null) return true;
      if (items) return items.every((i) => i === undefined || !wanted.has(i));
      const s = scalar(actual);
      return s === undefined || !wanted.has(s);
    }
    case 'Gt':
    case 'Lt': {
      const a = toNumber(actual);
      const b = toNumber(e.values?.[0]);
      if (a === undefined || b === undefined) return false;
      return e.operator === 'Gt' ? a > b : a < b;
    }
    case 'ContainsAll':
      return items !== undefined && [...wanted].every((w) => items.includes(w));
    case 'ContainsAny':
      return items !== undefined && items.some((i) => i !== undefined && wanted.has(i));
  }
}

export function matchProperties(capabilities: unknown, selector: Selector): boolean {
  return selector.matchExpressions.every((e) => {
    let tokens;
    try {
      tokens = parsePointer(e.key);
    } catch {
      return false; // refused at admission; a stored bad pointer never matches
    }
    return matchValue(resolvePointer(capabilities, tokens), e);
  });
}

export function matchLabels(labels: Record<string, unknown>, selector: Selector): boolean {
  return selector.matchExpressions.every((e) => matchValue(Object.prototype.hasOwnProperty.call(labels, e.key) ? labels[e.key] : undefined, e));
}

/** A device is eligible when every rule holds (rules, and the selectors within a rule, are ANDed). */
export function isEligible(device: DeviceFacts, rules: readonly EligibilityRule[]): boolean {
  return rules.every(
    (r) =>
      (!r.propertySelector || matchProperties(device.capabilities, r.propertySelector)) && (!r.labelSelector || matchLabels(device.labels, r.labelSelector)),
  );
}
