import { z } from 'zod';
import { storable, storedObject } from '../catalog/schema.js';
import { grantSetSchema } from '../../wire/grants.js';
import { appIdSchema, deploymentIdSchema, deviceIdSchema, versionSchema } from '../../wire/ids.js';
import { limitsSchema } from '../../wire/limits.js';
import { parametersSchema } from '../../wire/margo/application-deployment.js';
import { DEFAULT_TIER, tierSchema } from '../../wire/tier.js';
import { expressionProblem, OPERATORS } from '../scheduling/eligibility.js';
import { QUANTITY } from '../scheduling/capacity.js';

const quantity = z.string().regex(QUANTITY, 'a quantity matches ^[0-9]+(Mi|Gi|Ki)$');

const expression = z.strictObject({
  key: z
    .string()
    .max(512)
    .refine((k) => storable(k), 'must not contain U+0000'),
  operator: z.enum(OPERATORS),
  values: z
    .array(
      z.union([
        z
          .string()
          .max(256)
          .refine((k) => storable(k), 'must not contain U+0000'),
        z.number(),
        z.boolean(),
      ]),
    )
    .max(256)
    .optional(),
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
      cpu: z
        .strictObject({
          cores: z.number().positive().max(1024).optional(),
          architectures: z
            .array(z.enum(['amd64', 'arm64', 'arm', 'riscv64', 'other']))
            .max(5)
            .optional(),
        })
        .optional(),
      memory: quantity.optional(),
      storage: quantity.optional(),
    })
    .optional(),
  eligibilityRules: z
    .array(z.strictObject({ propertySelector: selector(true).optional(), labelSelector: selector(false).optional() }))
    .max(32)
    .optional(),
});

export const deploymentBody = z
  .strictObject({
    id: deploymentIdSchema.optional(),
    app: appIdSchema,
    version: versionSchema,
    /** Parsed with the wire schema, so the body carries the effective grants (defaults applied, once, here). */
    grants: storedObject.pipe(grantSetSchema),
    tier: tierSchema.default(DEFAULT_TIER),
    limits: limitsSchema.optional(),
    /** Margo parameters, in the shape the device reads them (a bare object was admitted and refused by every device). */
    parameters: storedObject.pipe(parametersSchema).optional(),
    deviceConstraints: deviceConstraints.default({}),
    /** Node-lock: only these devices. */
    deviceIds: z.array(deviceIdSchema).min(1).max(10_000).optional(),
    mode: z.enum(['every', 'spread']).default('every'),
    /** Spread only: how many instances. */
    replicas: z.number().int().positive().max(100_000).optional(),
    rollout: z.strictObject({ batchSize: z.number().int().positive().max(100_000) }).default({ batchSize: 1 }),
  })
  .superRefine((d, ctx) => {
    if (d.mode === 'spread' && d.replicas === undefined) ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'spread needs replicas' });
    if (d.mode === 'every' && d.replicas !== undefined) ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'replicas is only for mode spread' });
  });
export type DeploymentBody = z.output<typeof deploymentBody>;

export const rolloutBody = z.strictObject({
  version: versionSchema,
  batchSize: z.number().int().positive().max(100_000).optional(),
  /** A wave not installed on all its devices this long after it started pauses the rollout (default 900 s). */
  waveTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .optional(),
});

/*
 * Answers of the operator deployment endpoints that only the server reads
 * (routes/operator-deployment-api.ts); those the console or the CLI read live in wire/deployment.ts.
 */
export const schedulerSwept = z.object({ swept: z.literal(true) });
