/**
 * WASI `error-code` values and the mapping from Node's errno codes, so no Node exception
 * ever reaches the guest: every failure of a filesystem call becomes one of these codes.
 */
import { WasiResultError, fail } from './result.js';

export type FilesystemErrorCode =
  | 'access'
  | 'would-block'
  | 'already'
  | 'bad-descriptor'
  | 'busy'
  | 'deadlock'
  | 'quota'
  | 'exist'
  | 'file-too-large'
  | 'illegal-byte-sequence'
  | 'in-progress'
  | 'interrupted'
  | 'invalid'
  | 'io'
  | 'is-directory'
  | 'loop'
  | 'too-many-links'
  | 'message-size'
  | 'name-too-long'
  | 'no-device'
  | 'no-entry'
  | 'no-lock'
  | 'insufficient-memory'
  | 'insufficient-space'
  | 'not-directory'
  | 'not-empty'
  | 'not-recoverable'
  | 'unsupported'
  | 'no-tty'
  | 'no-such-device'
  | 'overflow'
  | 'not-permitted'
  | 'pipe'
  | 'read-only'
  | 'invalid-seek'
  | 'text-file-busy'
  | 'cross-device';

const ERRNO_TO_CODE: Readonly<Record<string, FilesystemErrorCode>> = {
  EACCES: 'access',
  EAGAIN: 'would-block',
  EWOULDBLOCK: 'would-block',
  EALREADY: 'already',
  EBADF: 'bad-descriptor',
  EBUSY: 'busy',
  EDEADLK: 'deadlock',
  EDQUOT: 'quota',
  EEXIST: 'exist',
  EFBIG: 'file-too-large',
  EILSEQ: 'illegal-byte-sequence',
  EINPROGRESS: 'in-progress',
  EINTR: 'interrupted',
  EINVAL: 'invalid',
  EIO: 'io',
  EISDIR: 'is-directory',
  ELOOP: 'loop',
  EMLINK: 'too-many-links',
  EMSGSIZE: 'message-size',
  ENAMETOOLONG: 'name-too-long',
  ENODEV: 'no-device',
  ENOENT: 'no-entry',
  ENOLCK: 'no-lock',
  ENOMEM: 'insufficient-memory',
  ENOSPC: 'insufficient-space',
  ENOTDIR: 'not-directory',
  ENOTEMPTY: 'not-empty',
  ENOTRECOVERABLE: 'not-recoverable',
  ENOTSUP: 'unsupported',
  EOPNOTSUPP: 'unsupported',
  ENOTTY: 'no-tty',
  ENXIO: 'no-such-device',
  EOVERFLOW: 'overflow',
  EPERM: 'not-permitted',
  EPIPE: 'pipe',
  EROFS: 'read-only',
  ESPIPE: 'invalid-seek',
  ETXTBSY: 'text-file-busy',
  EXDEV: 'cross-device',
};

/** Throws a WASI filesystem error code as the `err` of the current call. */
export function fsFail(code: FilesystemErrorCode): never {
  return fail(code);
}

/** The WASI code for anything a filesystem operation threw; unknown failures are `io`. */
export function toFilesystemErrorCode(err: unknown): FilesystemErrorCode {
  if (err instanceof WasiResultError && typeof err.payload === 'string') return err.payload as FilesystemErrorCode;
  const errno = (err as NodeJS.ErrnoException | null)?.code;
  return (typeof errno === 'string' && ERRNO_TO_CODE[errno]) || 'io';
}

/** Runs a filesystem operation, turning every failure into a WASI error code. */
export function guarded<T>(operation: () => T): T {
  try {
    return operation();
  } catch (err) {
    return fsFail(toFilesystemErrorCode(err));
  }
}
