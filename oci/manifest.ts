import { z } from 'zod';
import { isDigest, type Digest } from '../common/digest.js';
import { BerthError } from '../common/errors.js';
import { MEDIA_TYPE } from './media-types.js';

/** OCI descriptors, image manifests and indexes, parsed strictly enough to trust their digests. */
const digest = z.string().refine(isDigest, 'not a sha256 digest') as unknown as z.ZodType<Digest>;
const mediaType = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/, 'not a media type');
const annotations = z.record(z.string(), z.string()).optional();

export const descriptorSchema = z.object({
  mediaType,
  digest,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  artifactType: mediaType.optional(),
  annotations,
});
export type Descriptor = z.infer<typeof descriptorSchema>;

export const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.literal(MEDIA_TYPE.imageManifest),
  artifactType: mediaType.optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).max(64),
  subject: descriptorSchema.optional(),
  annotations,
});
export type ImageManifest = z.infer<typeof imageManifestSchema>;

export const imageIndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.literal(MEDIA_TYPE.imageIndex),
  artifactType: mediaType.optional(),
  manifests: z.array(descriptorSchema).max(1024),
  subject: descriptorSchema.optional(),
  annotations,
});
export type ImageIndex = z.infer<typeof imageIndexSchema>;

export function parseJson<T>(bytes: Uint8Array, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new BerthError('oci.bad-manifest', `${what} is not valid JSON`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'document';
    throw new BerthError('oci.bad-manifest', `${what} is malformed at ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** Canonical bytes we push: compact JSON, keys in the order built (digests are over these bytes). */
export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
