import { createHash } from 'node:crypto';

/** An OCI/Margo content digest: `sha256:` and 64 lowercase hex digits over the exact bytes. */
export type Digest = `sha256:${string}`;

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function sha256Digest(bytes: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST_PATTERN.test(value);
}

/** The hex part of a digest, for file names and cache keys. */
export function digestHex(digest: Digest): string {
  return digest.slice('sha256:'.length);
}
