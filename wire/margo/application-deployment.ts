import { z } from 'zod';
import { EXTENSION_KEY_PATTERN } from './common.js';
import { effectiveGrantSetSchema } from '../grants.js';
import { appIdSchema, deploymentIdSchema, deviceIdSchema, vendorNameSchema, versionSchema } from '../ids.js';
import { limitsSchema } from '../limits.js';
import { MAX_REFUSED_DIGESTS, refusedDigestSchema } from '../advisory.js';
import { tierSchema } from '../tier.js';

const extensions = z.record(z.string().regex(EXTENSION_KEY_PATTERN), z.record(z.string(), z.unknown()));

/** Berth's Wasm specifics, carried in `x-berth-extensions` (Margo has no Wasm profile yet). */
export const berthComponentExtensionSchema = z.object({
  digest: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  mediaType: z.literal('application/wasm'),
});
export const berthProfileExtensionSchema = z.object({
  runtime: z.literal('wasm-component'),
  vendor: vendorNameSchema,
  /** Effective grants: the control plane applied every default at admission; the device applies none. */
  grants: effectiveGrantSetSchema,
  tier: tierSchema,
  limits: limitsSchema.optional(),
  /** Digests of this app a security advisory stops: never started, not even as a fallback (wire/advisory.ts). */
  refusedDigests: z.array(refusedDigestSchema).max(MAX_REFUSED_DIGESTS).optional(),
});

/** Margo's deployment parameters: each a value and the components (and JSON Pointers) it is for. */
export const parametersSchema = z.record(
  z.string(),
  z.object({ value: z.unknown(), targets: z.array(z.object({ pointer: z.string(), components: z.array(z.string()) })) }),
);

/** Margo's ApplicationDeployment (application.margo.org/v1alpha1), the part Berth writes and reads. */
export const applicationDeploymentSchema = z.object({
  apiVersion: z.literal('application.margo.org/v1alpha1'),
  kind: z.literal('ApplicationDeployment'),
  metadata: z.object({
    name: deploymentIdSchema,
    namespace: z.string().optional(),
    deviceId: deviceIdSchema,
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.object({ id: deploymentIdSchema, applicationId: z.string() }),
  }),
  spec: z.object({
    applicationId: z.string().regex(/^[-a-z0-9]{1,200}$/),
    deploymentProfile: z
      .object({
        type: z.enum(['helm', 'compose', 'custom']),
        components: z.array(
          z.object({
            /** The Berth app id. */
            name: appIdSchema,
            properties: z
              .object({
                repository: z.string().regex(/^oci:\/\/.+/),
                revision: versionSchema,
                wait: z.boolean().optional(),
                timeout: z
                  .string()
                  .regex(/^\d+m\d+s$/)
                  .optional(),
              })
              .and(extensions),
          }),
        ),
      })
      .and(extensions),
    parameters: parametersSchema.optional(),
  }),
});
export type ApplicationDeployment = z.infer<typeof applicationDeploymentSchema>;
