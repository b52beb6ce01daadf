import { describe, expect, it } from 'vitest';
import { expressionProblem, isEligible, matchLabels, matchProperties, matchValue, type MatchExpression } from '../../orchestrator/scheduling/eligibility.js';
import { parsePointer, PointerError, resolvePointer } from '../../orchestrator/scheduling/json-pointer.js';

const caps = {
  properties: {
    id: 'press-1',
    vendor: 'acme',
    modelNumber: 'm1',
    serialNumber: 's1',
    cpus: [{ cores: 4, architecture: 'arm64' }],
    memory: '4Gi',
    peripherals: [{ type: 'gpu' }],
    supportedRuntimes: ['oci', 'custom'],
    'a/b': { 'c~d': 7 },
    firmware: '12',
  },
  labels: {},
};
const labels = { site: 'plant-a', zone: 3, tags: ['plc', 'camera'], flag: true };
const e = (key: string, operator: MatchExpression['operator'], values?: (string | number | boolean)[]): MatchExpression => ({
  key,
  operator,
  ...(values ? { values } : {}),
});

describe('JSON Pointer (RFC 6901)', () => {
  it('parses and resolves, with ~0 and ~1 escapes and array indices', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/a~1b/c~0d')).toEqual(['a/b', 'c~d']);
    expect(resolvePointer(caps, parsePointer('/properties/a~1b/c~0d'))).toBe(7);
    expect(resolvePointer(caps, parsePointer('/properties/cpus/0/architecture'))).toBe('arm64');
    expect(resolvePointer(caps, parsePointer(''))).toBe(caps);
  });
  it('refuses bad pointers', () => {
    expect(() => parsePointer('properties/memory')).toThrow(PointerError);
    expect(() => parsePointer('/a~2')).toThrow(/~/);
    expect(() => parsePointer('/a~')).toThrow(/~/);
  });
  it('a missing step, a bad index or a step into a scalar is absent, not an error', () => {
    expect(resolvePointer(caps, parsePointer('/properties/nope'))).toBeUndefined();
    expect(resolvePointer(caps, parsePointer('/properties/cpus/01/cores'))).toBeUndefined();
    expect(resolvePointer(caps, parsePointer('/properties/cpus/x'))).toBeUndefined();
    expect(resolvePointer(caps, parsePointer('/properties/cpus/5'))).toBeUndefined();
    expect(resolvePointer(caps, parsePointer('/properties/memory/x'))).toBeUndefined();
    expect(resolvePointer(caps, parsePointer('/properties/constructor'))).toBeUndefined();
  });
});

describe('every operator, match and no-match', () => {
  const cases: [string, MatchExpression, boolean][] = [
    ['In scalar match', e('/properties/vendor', 'In', ['acme', 'other']), true],
    ['In scalar no-match', e('/properties/vendor', 'In', ['other']), false],
    ['In list match (any member)', e('/properties/supportedRuntimes', 'In', ['oci']), true],
    ['In list no-match', e('/properties/supportedRuntimes', 'In', ['helm']), false],
    ['In absent key', e('/properties/nope', 'In', ['x']), false],
    ['In on an object is no-match', e('/properties/a~1b', 'In', ['x']), false],
    ['NotIn match', e('/properties/vendor', 'NotIn', ['other']), true],
    ['NotIn no-match', e('/properties/vendor', 'NotIn', ['acme']), false],
    ['NotIn absent key matches', e('/properties/nope', 'NotIn', ['acme']), true],
    ['NotIn list no-match', e('/properties/supportedRuntimes', 'NotIn', ['custom']), false],
    ['NotIn list match', e('/properties/supportedRuntimes', 'NotIn', ['helm']), true],
    ['Exists match', e('/properties/memory', 'Exists'), true],
    ['Exists no-match', e('/properties/storage', 'Exists'), false],
    ['DoesNotExist match', e('/properties/storage', 'DoesNotExist'), true],
    ['DoesNotExist no-match', e('/properties/memory', 'DoesNotExist'), false],
    ['Gt match', e('/properties/cpus/0/cores', 'Gt', ['2']), true],
    ['Gt no-match (equal)', e('/properties/cpus/0/cores', 'Gt', [4]), false],
    ['Gt numeric string on the device', e('/properties/firmware', 'Gt', ['9']), true],
    ['Gt type mismatch is no-match', e('/properties/vendor', 'Gt', ['1']), false],
    ['Gt absent is no-match', e('/properties/nope', 'Gt', ['1']), false],
    ['Lt match', e('/properties/cpus/0/cores', 'Lt', ['8']), true],
    ['Lt no-match', e('/properties/cpus/0/cores', 'Lt', ['4']), false],
    ['Lt type mismatch (list) is no-match', e('/properties/cpus', 'Lt', ['4']), false],
    ['ContainsAll match', e('/properties/supportedRuntimes', 'ContainsAll', ['oci', 'custom']), true],
    ['ContainsAll no-match', e('/properties/supportedRuntimes', 'ContainsAll', ['oci', 'helm']), false],
    ['ContainsAll on a scalar is no-match', e('/properties/vendor', 'ContainsAll', ['acme']), false],
    ['ContainsAny match', e('/properties/supportedRuntimes', 'ContainsAny', ['helm', 'custom']), true],
    ['ContainsAny no-match', e('/properties/supportedRuntimes', 'ContainsAny', ['helm']), false],
    ['ContainsAny absent is no-match', e('/properties/nope', 'ContainsAny', ['helm']), false],
  ];
  for (const [name, expr, want] of cases) {
    it(`property: ${name}`, () => expect(matchProperties(caps, { matchExpressions: [expr] })).toBe(want));
  }

  const labelCases: [string, MatchExpression, boolean][] = [
    ['In', e('site', 'In', ['plant-a']), true],
    ['In no-match', e('site', 'In', ['plant-b']), false],
    ['In on a number label', e('zone', 'In', ['3']), true],
    ['In on a boolean label', e('flag', 'In', [true]), true],
    ['NotIn', e('site', 'NotIn', ['plant-b']), true],
    ['NotIn no-match', e('site', 'NotIn', ['plant-a']), false],
    ['Exists', e('zone', 'Exists'), true],
    ['Exists no-match', e('room', 'Exists'), false],
    ['DoesNotExist', e('room', 'DoesNotExist'), true],
    ['DoesNotExist no-match', e('site', 'DoesNotExist'), false],
    ['Gt', e('zone', 'Gt', ['2']), true],
    ['Gt no-match', e('zone', 'Gt', ['3']), false],
    ['Lt', e('zone', 'Lt', ['3.5']), true],
    ['Lt no-match', e('zone', 'Lt', ['-1']), false],
    ['ContainsAll', e('tags', 'ContainsAll', ['camera', 'plc']), true],
    ['ContainsAll no-match', e('tags', 'ContainsAll', ['camera', 'robot']), false],
    ['ContainsAny', e('tags', 'ContainsAny', ['robot', 'plc']), true],
    ['ContainsAny no-match', e('tags', 'ContainsAny', ['robot']), false],
    ['label keys are exact, not pointers', e('/site', 'Exists'), false],
    ['an inherited name is not a label', e('toString', 'Exists'), false],
  ];
  for (const [name, expr, want] of labelCases) {
    it(`label: ${name}`, () => expect(matchLabels(labels, { matchExpressions: [expr] })).toBe(want));
  }

  it('null counts as absent', () => {
    expect(matchValue(null, e('k', 'Exists'))).toBe(false);
    expect(matchValue(null, e('k', 'DoesNotExist'))).toBe(true);
    expect(matchValue(null, e('k', 'In', ['null']))).toBe(false);
  });
});

describe('rules', () => {
  const facts = { capabilities: caps, labels };
  it('expressions in a selector are ANDed, and so are rules and the selectors of a rule', () => {
    const yes = e('site', 'In', ['plant-a']);
    const no = e('site', 'In', ['plant-b']);
    const arm = e('/properties/cpus/0/architecture', 'In', ['arm64']);
    expect(isEligible(facts, [{ labelSelector: { matchExpressions: [yes] } }])).toBe(true);
    expect(isEligible(facts, [{ labelSelector: { matchExpressions: [yes, no] } }])).toBe(false);
    expect(isEligible(facts, [{ labelSelector: { matchExpressions: [yes] } }, { labelSelector: { matchExpressions: [no] } }])).toBe(false);
    expect(isEligible(facts, [{ labelSelector: { matchExpressions: [yes] }, propertySelector: { matchExpressions: [arm] } }])).toBe(true);
    expect(
      isEligible(facts, [{ labelSelector: { matchExpressions: [yes] }, propertySelector: { matchExpressions: [e('/properties/vendor', 'In', ['x'])] } }]),
    ).toBe(false);
    expect(isEligible(facts, [])).toBe(true);
  });
  it('a bad pointer that slipped past admission never matches', () => {
    expect(matchProperties(caps, { matchExpressions: [e('properties', 'DoesNotExist')] })).toBe(false);
  });
});

describe('expression shape checks (admission)', () => {
  it('names what is wrong', () => {
    expect(expressionProblem(e('/a', 'Exists', ['x']), true)).toMatch(/no values/);
    expect(expressionProblem(e('/a', 'Exists'), true)).toBeUndefined();
    expect(expressionProblem(e('/a', 'Gt'), true)).toMatch(/exactly one/);
    expect(expressionProblem(e('/a', 'Lt', ['x']), true)).toMatch(/numeric/);
    expect(expressionProblem(e('/a', 'Lt', ['2', '3']), true)).toMatch(/exactly one/);
    expect(expressionProblem(e('/a', 'In', []), true)).toMatch(/at least one/);
    expect(expressionProblem(e('/a', 'ContainsAny'), true)).toMatch(/at least one/);
    expect(expressionProblem(e('a', 'In', ['x']), true)).toMatch(/JSON Pointer/);
    expect(expressionProblem(e('a', 'In', ['x']), false)).toBeUndefined();
    expect(expressionProblem(e('/a~9', 'Exists'), true)).toMatch(/~/);
  });
});
