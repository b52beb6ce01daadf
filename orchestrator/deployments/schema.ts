import { z } from 'zod';
import { appId, appVersion, storable, storedObject } from '../catalog/schema.js';
import { grantSetSchema } from '../../host-apis/grants.js';
import { expressionProblem, OPERATORS } from '../scheduling/eligibility.js';
import { QUANTITY } from '../scheduling/capacity.js';

const quantity = z.string().regex(QUANTITY, 'a quantity matches ^[0-9]+(Mi|Gi|Ki)$');

const expression = z.strictObject({
  key: z.string().max(512).refine((k) => storable(k), 'must not contain U+0000'),
  operator: z.enum(OPERATORS),
  values: z.array(z.union([z.string().max(256).refine((k) => storable(k), 'must not contain U+0000'), z.number(), z.boolean()])).max(256).optional(),
});

/** `keyIsPointer`: property selectors key by JSON Pointer, label selectors by exact label name. */
const selector = (keyIsPointer: boolean) =>
  z.strictObject({ matchExpressions: z.array(expression).min(1).max(64) }).superRefine((s, ctx) => {
    s.matchExpressions.forEach((e, i) => {
      const problem = expressionProblem(e, keyIsPointer);
      if (problem) ctx.addIssue({ code: 'custom', path: ['matchExpressions', i], message: problem });
    });
  });

export const deviceConstraints = z.strictObject({
  capacityRequirements: z
    .strictObject({
      cpu: z.strictObject({ cores: z.number().positive().max(1024).optional(), architectures: z.array(z.enum(['amd64', 'arm64', 'arm', 'riscv64', 'other'])).max(5).optional() }).optional(),
      memory: quantity.optional(),
      storage: quantity.optional(),
    })
    .optional(),
  eligibilityRules: z.array(z.strictObject({ propertySelector: selector(true).optional(), labelSelector: selector(false).optional() })).max(32).optional(),
});

const deviceId = z.string().regex(/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, 'a device id as Margo defines it').max(255);

export const deploymentBody = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][-a-z0-9]{0,62}$/, 'a deployment id is lowercase letters, digits and - (at most 63)').optional(),
    app: appId,
    version: appVersion,
    /** Checked against grantSetSchema and against the version's imports at admission. */
    grants: storedObject,
    tier: z.enum(['instance', 'worker', 'process']).default('worker'),
    limits: z.strictObject({ memoryBytes: z.number().int().positive().max(2 ** 40).optional(), cpuDeadlineMs: z.number().int().positive().max(3_600_000).optional() }).optional(),
    parameters: storedObject.optional(),
    deviceConstraints: deviceConstraints.default({}),
    /** Node-lock: only these devices. */
    deviceIds: z.array(deviceId).min(1).max(10_000).optional(),
    mode: z.enum(['every', 'spread']).default('every'),
    /** Spread only: how many instances. */
    replicas: z.number().int().positive().max(100_000).optional(),
    rollout: z.strictObject({ batchSize: z.number().int().positive().max(100_000) }).default({ batchSize: 1 }),
  })
  .superRefine((d, ctx) => {
    if (d.mode === 'spread' && d.replicas === undefined) ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'spread needs replicas' });
    if (d.mode === 'every' && d.replicas !== undefined) ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'replicas is only for mode spread' });
    const bad = grantSetSchema.safeParse(d.grants);
    if (!bad.success) for (const i of bad.error.issues) ctx.addIssue({ code: 'custom', path: ['grants', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: i.message });
  });
export type DeploymentBody = z.output<typeof deploymentBody>;

export const rolloutBody = z.strictObject({
  version: appVersion,
  batchSize: z.number().int().positive().max(100_000).optional(),
  /** A wave not installed on all its devices this long after it started pauses the rollout (default 900 s). */
  waveTimeoutSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
});
