import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BerthError } from '../../common/errors.js';

/** The error codes of the distribution spec that this server answers with. */
export type DistributionCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNKNOWN';

/**
 * A refusal as the distribution spec writes it: an HTTP status and `{errors:[{code,message}]}`.
 * It is a BerthError too (code `registry.<lower-case spec code>`), so storage functions called
 * outside HTTP (the mirror's copy) raise something callers already know how to report.
 */
export class DistributionError extends BerthError {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly specCode: DistributionCode,
    message: string,
  ) {
    super(`registry.${specCode.toLowerCase().replace(/_/g, '-')}`, message);
    this.name = 'DistributionError';
  }

  body(): { errors: { code: DistributionCode; message: string }[] } {
    return { errors: [{ code: this.specCode, message: this.message }] };
  }
}

export const refuse = {
  nameInvalid: (why: string) => new DistributionError(400, 'NAME_INVALID', why),
  nameUnknown: (name: string) => new DistributionError(404, 'NAME_UNKNOWN', `repository '${name}' is not known to this registry`),
  digestInvalid: (why: string) => new DistributionError(400, 'DIGEST_INVALID', why),
  blobUnknown: (digest: string) => new DistributionError(404, 'BLOB_UNKNOWN', `blob ${digest} is not in this repository`),
  manifestUnknown: (ref: string) => new DistributionError(404, 'MANIFEST_UNKNOWN', `manifest '${ref}' is not in this repository`),
  manifestInvalid: (why: string) => new DistributionError(400, 'MANIFEST_INVALID', why),
  manifestBlobUnknown: (digest: string) =>
    new DistributionError(400, 'MANIFEST_BLOB_UNKNOWN', `the manifest references ${digest}, which is not in this repository; push it first`),
  uploadUnknown: () => new DistributionError(404, 'BLOB_UPLOAD_UNKNOWN', 'no such upload session in this repository (expired, finished or never started)'),
  uploadInvalid: (why: string, status: ContentfulStatusCode = 400) => new DistributionError(status, 'BLOB_UPLOAD_INVALID', why),
  tooLarge: (what: string, limit: number) => new DistributionError(413, 'SIZE_INVALID', `${what} exceeds the limit of ${limit} bytes`),
  readOnly: () => new DistributionError(405, 'UNSUPPORTED', 'this registry is read-only'),
} as const;
