import { z } from 'zod';
import { deviceIdSchema } from '../ids.js';
import { EXTENSION_KEY_PATTERN } from './common.js';

const labelValue = z.union([z.string().max(1024), z.number(), z.boolean(), z.array(z.string().max(1024)).max(256), z.array(z.number()).max(256)]);
/** A device's labels, as its agent is configured with them and as it reports them. */
export const capabilityLabelsSchema = z.record(z.string().min(1).max(317), labelValue);
const architecture = z.enum(['amd64', 'arm64', 'arm', 'riscv64', 'other']);
const quantity = z.string().regex(/^[0-9]+(Mi|Gi|Ki)$/, 'a quantity like 512Mi, 2Gi or 64Ki');

export const capabilityPropertiesSchema = z.looseObject({
  id: deviceIdSchema,
  vendor: z.string().min(1).max(256),
  modelNumber: z.string().min(1).max(256),
  serialNumber: z.string().min(1).max(256),
  cpus: z
    .array(z.object({ cores: z.number().int().positive().max(4096), architecture }))
    .max(64)
    .optional(),
  memory: quantity.optional(),
  storage: quantity.optional(),
  peripherals: z
    .array(z.looseObject({ type: z.string().min(1).max(256) }))
    .max(256)
    .optional(),
  interfaces: z
    .array(z.looseObject({ type: z.string().min(1).max(256) }))
    .max(256)
    .optional(),
  otelCollector: z.unknown().optional(),
  supportedRuntimes: z
    .array(z.enum(['oci', 'custom']))
    .max(8)
    .optional(),
  supportedDeploymentTypes: z
    .array(z.enum(['helm', 'compose', 'custom']))
    .max(8)
    .optional(),
});

/**
 * Margo's DeviceCapabilitiesManifest: `properties` (id, vendor, model and serial required),
 * `labels`, and `x-<name>-extensions` objects; any other top-level key is refused.
 */
export const deviceCapabilitiesSchema = z
  .object({
    properties: capabilityPropertiesSchema,
    labels: capabilityLabelsSchema.optional(),
  })
  .catchall(z.record(z.string(), z.unknown()))
  .superRefine((value, ctx) => {
    for (const key of Object.keys(value)) {
      if (key !== 'properties' && key !== 'labels' && !EXTENSION_KEY_PATTERN.test(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'unknown member: only properties, labels and x-<name>-extensions are allowed' });
      }
    }
  });
export type DeviceCapabilities = z.infer<typeof deviceCapabilitiesSchema>;
