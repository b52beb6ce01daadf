import { sha256Digest, type Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';
import { imageIndexSchema, imageManifestSchema, parseJson, type Descriptor } from '../manifest.js';
import { MEDIA_TYPE } from '../media-types.js';
import { refuse } from './errors.js';

/** What a manifest PUT stores, once its bytes have been checked. */
export interface CheckedManifest {
  digest: Digest;
  mediaType: string;
  /** Blobs that must already be in the repository (config and layers). */
  blobs: Descriptor[];
  /** Manifests that must already be in the repository (an index's entries). */
  manifests: Descriptor[];
  /** Set when the manifest names a subject: its entry in the subject's referrers list. */
  referrer?: { subject: Digest; descriptor: Descriptor };
}

/** The manifest kinds this server stores: OCI image manifests and indexes (docs/mirror.md). */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MEDIA_TYPE.imageManifest, MEDIA_TYPE.imageIndex];

/**
 * Checks a pushed manifest: its Content-Type is a supported manifest type and agrees with the
 * `mediaType` inside, the JSON has the shape the image spec gives it, and a digest reference is
 * the digest of these exact bytes. Whether the blobs it names exist is the storage's check.
 */
export function checkManifest(bytes: Uint8Array, contentType: string | undefined, digestReference?: Digest): CheckedManifest {
  const digest = sha256Digest(bytes);
  if (digestReference !== undefined && digestReference !== digest) {
    throw refuse.digestInvalid(`the manifest bytes hash to ${digest}, not to the digest ${digestReference} it was pushed under`);
  }
  const mediaType = (contentType ?? '').split(';')[0]!.trim();
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    throw refuse.manifestInvalid(`manifest Content-Type '${mediaType.slice(0, 100) || 'none'}' is not supported; use ${MANIFEST_MEDIA_TYPES.join(' or ')}`);
  }
  const inner = innerMediaType(bytes);
  if (inner !== mediaType) throw refuse.manifestInvalid(`the manifest says its mediaType is '${String(inner).slice(0, 100)}' but was sent as '${mediaType}'`);
  try {
    if (mediaType === MEDIA_TYPE.imageManifest) {
      const m = parseJson(bytes, imageManifestSchema, 'manifest');
      const checked: CheckedManifest = { digest, mediaType, blobs: [m.config, ...m.layers], manifests: [] };
      if (m.subject)
        checked.referrer = {
          subject: m.subject.digest,
          descriptor: referrerDescriptor(digest, mediaType, bytes.byteLength, m.artifactType ?? m.config.mediaType, m.annotations),
        };
      return checked;
    }
    const index = parseJson(bytes, imageIndexSchema, 'image index');
    const checked: CheckedManifest = { digest, mediaType, blobs: [], manifests: index.manifests };
    if (index.subject)
      checked.referrer = {
        subject: index.subject.digest,
        descriptor: referrerDescriptor(digest, mediaType, bytes.byteLength, index.artifactType, index.annotations),
      };
    return checked;
  } catch (err) {
    if (err instanceof BerthError && err.code === 'oci.bad-manifest') throw refuse.manifestInvalid(err.message);
    throw err;
  }
}

function innerMediaType(bytes: Uint8Array): unknown {
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as { mediaType?: unknown }).mediaType : undefined;
  } catch {
    throw refuse.manifestInvalid('the manifest is not valid JSON');
  }
}

/** The referrers API entry: the referrer's descriptor with its artifactType and annotations. */
function referrerDescriptor(
  digest: Digest,
  mediaType: string,
  size: number,
  artifactType: string | undefined,
  annotations: Record<string, string> | undefined,
): Descriptor {
  const d: Descriptor = { mediaType, digest, size };
  if (artifactType) d.artifactType = artifactType;
  if (annotations) d.annotations = annotations;
  return d;
}
