import { z } from 'zod';
import { deploymentIdSchema } from '../ids.js';
import { digestSchema, BUNDLE_MEDIA_TYPE } from './common.js';

/** Margo's UnsignedAppStateManifest: the whole desired state of one device. */
export const stateManifestSchema = z.object({
  manifestVersion: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  bundle: z
    .object({ mediaType: z.literal(BUNDLE_MEDIA_TYPE), digest: digestSchema, sizeBytes: z.number().int().nonnegative(), url: z.string().min(1) })
    .nullable(),
  deployments: z.array(z.object({ deploymentId: deploymentIdSchema, digest: digestSchema, sizeBytes: z.number().int().nonnegative(), url: z.string().min(1) })),
});
export type StateManifest = z.infer<typeof stateManifestSchema>;
