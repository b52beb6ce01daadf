import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { BerthError } from '../../common/errors.js';
import { truncateText } from '../../common/text.js';
import { keyIdOf, loadPublicKey } from '../signing/keys.js';
import { parseRule, type ArtifactRule, type RuleText } from './rules.js';

/**
 * An in-toto v1 layout (in-toto specification §4.3) inside a vendor's trust policy, in the
 * policy's camelCase: `expected_materials` is `expectedMaterials`. Keys are ECDSA P-256 PEM, as
 * vendor keys are, named by Berth key ids (hex SHA-256 of the SPKI DER); a step's `pubkeys` may
 * also name the policy's own `publicKeys`. Inspections and `expected_command` are not supported
 * (the schema refuses them), so nothing in a layout is silently ignored.
 */
const keyId = z.string().regex(/^[0-9a-f]{64}$/u, 'a key id is the hex SHA-256 of the key (64 hex digits)');

const rule = z.union([z.string().min(1).max(1024), z.array(z.string().min(1).max(512)).min(2).max(9)]).superRefine((r, ctx) => {
  try {
    parseRule(r);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const stepSchema = z
  .object({
    _type: z.literal('step').optional(),
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/u, 'a step name is 1-64 letters, digits, _ . -'),
    pubkeys: z.array(keyId).min(1).max(16),
    threshold: z.number().int().min(1).max(16).default(1),
    expectedMaterials: z.array(rule).max(64).default([]),
    expectedProducts: z.array(rule).max(64).default([]),
    /** Berth: the vendor's SLSA provenance, signed by one of this step's functionaries, is a link of this step (docs/in-toto.md). */
    provenance: z.boolean().optional(),
  })
  .strict()
  .refine((s) => s.threshold <= new Set(s.pubkeys).size, { message: 'threshold is more than the step has functionaries', path: ['threshold'] });

export const layoutSchema = z
  .object({
    _type: z.literal('layout').optional(),
    expires: z.iso.datetime({ offset: true }),
    keys: z.record(keyId, z.string().min(1).max(4096)).default({}),
    steps: z.array(stepSchema).min(1).max(32),
    readme: z.string().max(4096).optional(),
  })
  .strict()
  .superRefine((layout, ctx) => {
    const names = layout.steps.map((s) => s.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) ctx.addIssue({ code: 'custom', message: `step '${name}' is named twice`, path: ['steps', i, 'name'] });
    });
    layout.steps.forEach((s, i) =>
      (['expectedMaterials', 'expectedProducts'] as const).forEach((field) =>
        s[field].forEach((r, j) => {
          const parsed = parsedOrUndefined(r);
          if (parsed?.type === 'MATCH' && !names.includes(parsed.step))
            ctx.addIssue({ code: 'custom', message: `MATCH names step '${parsed.step}', which the layout does not have`, path: ['steps', i, field, j] });
        }),
      ),
    );
  });

/** zod runs this check even when a rule failed its own (reported there already). */
function parsedOrUndefined(rule: RuleText): ArtifactRule | undefined {
  try {
    return parseRule(rule);
  } catch {
    return undefined;
  }
}

export type LayoutInput = z.input<typeof layoutSchema>;
type Layout = z.output<typeof layoutSchema>;

export interface CompiledStep {
  name: string;
  /** Functionaries: key id → key. */
  functionaries: Map<string, KeyObject>;
  threshold: number;
  expectedMaterials: ArtifactRule[];
  expectedProducts: ArtifactRule[];
  provenance: boolean;
}

export interface CompiledLayout {
  expires: Date;
  steps: CompiledStep[];
  /** Every key the layout or the policy names: a link signed by one is at least not a stranger's. */
  keys: Map<string, KeyObject>;
}

/** Keys parsed and checked against their ids, step keys resolved; `policyKeys` are the vendor's own. */
export function compileLayout(layout: Layout, policyKeys: ReadonlyMap<string, KeyObject>): CompiledLayout {
  const keys = new Map(policyKeys);
  for (const [id, pem] of Object.entries(layout.keys)) {
    const key = loadPublicKey(pem, `layout key ${id.slice(0, 16)}…`);
    if (keyIdOf(key) !== id)
      throw new BerthError('policy.invalid', `vendor trust policy is invalid at layout.keys: key ${id.slice(0, 16)}… has the id ${keyIdOf(key)}`);
    keys.set(id, key);
  }
  return { expires: new Date(layout.expires), keys, steps: layout.steps.map((s, i) => compileStep(s, i, keys)) };
}

function compileStep(step: Layout['steps'][number], index: number, keys: ReadonlyMap<string, KeyObject>): CompiledStep {
  const functionaries = new Map<string, KeyObject>();
  for (const id of step.pubkeys) {
    const key = keys.get(id);
    if (!key)
      throw new BerthError(
        'policy.invalid',
        `vendor trust policy is invalid at layout.steps.${index}.pubkeys: key ${truncateText(id, 64)} is neither in layout.keys nor among the policy's publicKeys`,
      );
    functionaries.set(id, key);
  }
  return {
    name: step.name,
    functionaries,
    threshold: step.threshold,
    expectedMaterials: step.expectedMaterials.map(parseRule),
    expectedProducts: step.expectedProducts.map(parseRule),
    provenance: step.provenance === true,
  };
}
