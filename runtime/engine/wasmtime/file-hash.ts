import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/**
 * The sha256 of a file, read as a stream (the library is 31 MB). A result is kept per path and
 * the file's identity (size, mtime, ctime, inode) so checking the same file again costs one
 * stat; ctime is in the key because it cannot be set back by hand the way mtime can.
 */
const known = new Map<string, { identity: string; sha256: string }>();
let reads = 0;

export async function sha256OfFile(path: string): Promise<string> {
  const before = await identityOf(path);
  const hit = known.get(path);
  if (hit && hit.identity === before) return hit.sha256;
  reads++;
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  const sha256 = hash.digest('hex');
  // A file that changed while it was read has no single hash: do not remember this one.
  if ((await identityOf(path)) === before) known.set(path, { identity: before, sha256 });
  return sha256;
}

/** How many times a file was actually read (tests check that a second check is a cache hit). */
export function fileHashReads(): number {
  return reads;
}

async function identityOf(path: string): Promise<string> {
  const s = await stat(path, { bigint: true });
  return `${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.ino}:${s.dev}`;
}
