import { z } from 'zod';
import { EXTENSION_KEY_PATTERN } from './common.js';

const extensions = z.record(z.string().regex(EXTENSION_KEY_PATTERN), z.record(z.string(), z.unknown()));

/** Berth's Wasm specifics, carried in `x-berth-extensions` (Margo has no Wasm profile yet). */
export const berthComponentExtensionSchema = z.object({ digest: z.string(), sizeBytes: z.number().int().nonnegative(), mediaType: z.literal('application/wasm') });
export const berthProfileExtensionSchema = z.object({
  runtime: z.literal('wasm-component'),
  vendor: z.string(),
  grants: z.record(z.string(), z.unknown()),
  tier: z.enum(['instance', 'worker', 'process']),
  limits: z.object({ memoryBytes: z.number().int().positive().optional(), cpuDeadlineMs: z.number().int().positive().optional() }).optional(),
});

/** Margo's ApplicationDeployment (application.margo.org/v1alpha1), the part Berth writes and reads. */
export const applicationDeploymentSchema = z.object({
  apiVersion: z.literal('application.margo.org/v1alpha1'),
  kind: z.literal('ApplicationDeployment'),
  metadata: z.object({
    name: z.string(),
    namespace: z.string().optional(),
    deviceId: z.string(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.object({ id: z.string(), applicationId: z.string() }),
  }),
  spec: z.object({
    applicationId: z.string().regex(/^[-a-z0-9]{1,200}$/),
    deploymentProfile: z
      .object({
        type: z.enum(['helm', 'compose', 'custom']),
        components: z.array(
          z.object({
            name: z.string(),
            properties: z
              .object({ repository: z.string().regex(/^oci:\/\/.+/), revision: z.string(), wait: z.boolean().optional(), timeout: z.string().regex(/^\d+m\d+s$/).optional() })
              .and(extensions),
          }),
        ),
      })
      .and(extensions),
    parameters: z.record(z.string(), z.object({ value: z.unknown(), targets: z.array(z.object({ pointer: z.string(), components: z.array(z.string()) })) })).optional(),
  }),
});
export type ApplicationDeployment = z.infer<typeof applicationDeploymentSchema>;
