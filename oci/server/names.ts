import { isDigest, type Digest } from '../../common/digest.js';
import { refuse } from './errors.js';

/**
 * The grammars of the distribution spec, checked before any name, tag or digest becomes part
 * of a file path. None of them can spell `..`, `/` (tags, digests) or a leading `_`, which is
 * what keeps the server's own directories (`_tags`, `_manifests`, ...) apart from repositories.
 */
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const MAX_NAME_LENGTH = 255;

export function checkRepository(name: string): string {
  if (name.length > MAX_NAME_LENGTH) throw refuse.nameInvalid(`repository name is longer than ${MAX_NAME_LENGTH} characters`);
  if (!REPOSITORY.test(name)) throw refuse.nameInvalid(`'${printable(name)}' is not a valid repository name`);
  return name;
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** A manifest reference: a tag or a sha256 digest (the only algorithm this server stores). */
export function checkReference(ref: string): { tag: string } | { digest: Digest } {
  if (isDigest(ref)) return { digest: ref };
  if (ref.includes(':')) throw refuse.digestInvalid(`'${printable(ref)}' is not a sha256 digest (sha256: and 64 lower-case hex digits)`);
  if (!TAG.test(ref)) throw refuse.manifestInvalid(`'${printable(ref)}' is neither a tag nor a digest`);
  return { tag: ref };
}

export function checkDigest(value: string | undefined, what = 'digest'): Digest {
  if (!isDigest(value)) throw refuse.digestInvalid(`${what} '${printable(value ?? '')}' is not a sha256 digest (sha256: and 64 lower-case hex digits)`);
  return value;
}

export function isUploadId(value: string): boolean {
  return UPLOAD_ID.test(value);
}

/** For messages: a bounded, printable echo of what the client sent. */
export function printable(value: string): string {
  return value.slice(0, 100).replace(/[^\x20-\x7e]/g, '?');
}
