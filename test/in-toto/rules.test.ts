import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../trust/in-toto/pattern.js';
import { checkRules, type StepArtifacts } from '../../trust/in-toto/rule-engine.js';
import { parseRule } from '../../trust/in-toto/rules.js';

// The in-toto v1 artifact rules, one behaviour at a time, without keys or a registry.
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const artifacts = (entries: Record<string, string>) => new Map(Object.entries(entries));
const step = (materials: Record<string, string>, products: Record<string, string>): StepArtifacts => ({
  materials: artifacts(materials),
  products: artifacts(products),
});
const rules = (...texts: string[]) => texts.map(parseRule);

describe('patterns', () => {
  it('* spans slashes as fnmatch does, ? is one character, everything else is literal', () => {
    expect(matchesPattern('*', 'src/main.rs')).toBe(true);
    expect(matchesPattern('src/*.rs', 'src/a/b.rs')).toBe(true);
    expect(matchesPattern('?.wasm', 'a.wasm')).toBe(true);
    expect(matchesPattern('?.wasm', 'ab.wasm')).toBe(false);
    expect(matchesPattern('a.wasm', 'axwasm')).toBe(false);
  });
});

describe('parsing rules', () => {
  it('reads the string and the token-list forms alike, with optional IN prefixes', () => {
    expect(parseRule('MATCH * WITH PRODUCTS FROM build')).toEqual(parseRule(['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'build']));
    expect(parseRule('MATCH *.wasm IN out WITH MATERIALS IN dist FROM test')).toMatchObject({
      type: 'MATCH',
      pattern: '*.wasm',
      sourcePrefix: 'out',
      kind: 'MATERIALS',
      destinationPrefix: 'dist',
      step: 'test',
    });
    expect(parseRule('CREATE sensor.wasm')).toEqual({ type: 'CREATE', pattern: 'sensor.wasm' });
  });

  it.each([
    ['CREATE', /one pattern/],
    ['CREATE a b', /one pattern/],
    ['MATCH * FROM build', /expected WITH/],
    ['MATCH * WITH ARTIFACTS FROM build', /MATERIALS or PRODUCTS/],
    ['MATCH * WITH PRODUCTS build', /FROM <step>/],
    ['ALLOW [ab]', /character classes/],
    ['INSPECT x', /not a supported rule/],
  ])('refuses %s', (text, why) => {
    expect(() => parseRule(text)).toThrow(why);
  });
});

describe('applying rules', () => {
  const build = step({ 'src.tar': A }, { 'sensor.wasm': B });
  const steps = new Map([['build', build]]);

  it('CREATE consumes new products; DISALLOW * then finds nothing left', () => {
    expect(() => checkRules('build', 'PRODUCTS', rules('CREATE sensor.wasm', 'DISALLOW *'), build, steps)).not.toThrow();
  });

  it('DISALLOW refuses what no earlier rule accounted for', () => {
    expect(() => checkRules('build', 'PRODUCTS', rules('CREATE other.wasm', 'DISALLOW *'), build, steps)).toThrow(
      expect.objectContaining({ code: 'in_toto.rule_violated', message: expect.stringMatching(/sensor\.wasm/) }),
    );
  });

  it('MATCH needs the same name and digest in the named step', () => {
    const test = step({ 'sensor.wasm': B }, {});
    expect(() => checkRules('test', 'MATERIALS', rules('MATCH sensor.wasm WITH PRODUCTS FROM build', 'DISALLOW *'), test, steps)).not.toThrow();
    const swapped = step({ 'sensor.wasm': C }, {});
    expect(() => checkRules('test', 'MATERIALS', rules('MATCH sensor.wasm WITH PRODUCTS FROM build', 'DISALLOW *'), swapped, steps)).toThrow(
      expect.objectContaining({ code: 'in_toto.rule_violated' }),
    );
  });

  it('MATCH with prefixes maps out/x to dist/x', () => {
    const packaged = step({ 'dist/sensor.wasm': B }, {});
    const built = new Map([['build', step({}, { 'out/sensor.wasm': B })]]);
    expect(() => checkRules('pack', 'MATERIALS', rules('MATCH * IN dist WITH PRODUCTS IN out FROM build', 'DISALLOW *'), packaged, built)).not.toThrow();
  });

  it('MATCH against a step without artifacts consumes nothing', () => {
    expect(() => checkRules('test', 'MATERIALS', rules('MATCH * WITH PRODUCTS FROM nowhere', 'DISALLOW *'), step({ x: A }, {}), steps)).toThrow(
      expect.objectContaining({ code: 'in_toto.rule_violated' }),
    );
  });

  it('DELETE, MODIFY and ALLOW consume what they describe; what is left is allowed', () => {
    const s = step({ gone: A, changed: A, kept: A }, { changed: B, kept: A });
    expect(() => checkRules('s', 'MATERIALS', rules('DELETE gone', 'MODIFY changed', 'ALLOW kept', 'DISALLOW *'), s, steps)).not.toThrow();
    expect(() => checkRules('s', 'MATERIALS', rules('MODIFY kept', 'DISALLOW kept'), s, steps)).toThrow(
      expect.objectContaining({ code: 'in_toto.rule_violated' }),
    );
    expect(() => checkRules('s', 'MATERIALS', rules('ALLOW gone'), s, steps)).not.toThrow();
  });

  it('REQUIRE needs the artifact to be there', () => {
    expect(() => checkRules('build', 'MATERIALS', rules('REQUIRE src.tar'), build, steps)).not.toThrow();
    expect(() => checkRules('build', 'MATERIALS', rules('REQUIRE Cargo.lock'), build, steps)).toThrow(
      expect.objectContaining({ code: 'in_toto.rule_violated' }),
    );
  });
});
