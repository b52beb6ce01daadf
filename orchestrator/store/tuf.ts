import type { Queryable } from './store.js';

/**
 * The fleet's TUF repository in the store (migration 19), so every replica serves the same
 * metadata and target files (docs/tuf.md). Metadata is kept as the exact bytes served: a
 * signature covers them, so they are never re-serialised.
 */

/** Held while one replica publishes new metadata, so two never write the same version. */
export const TUF_PUBLISH_LOCK = 0x62657278;

export interface StoredMetadata {
  role: string;
  version: number;
  body: string;
}

export async function latestMetadata(q: Queryable, role: string): Promise<StoredMetadata | undefined> {
  const rows = await q.query<StoredMetadata>('SELECT role, version, body FROM tuf_metadata WHERE role = $1 ORDER BY version DESC LIMIT 1', [role]);
  return rows[0];
}

export async function metadataAt(q: Queryable, role: string, version: number): Promise<StoredMetadata | undefined> {
  const rows = await q.query<StoredMetadata>('SELECT role, version, body FROM tuf_metadata WHERE role = $1 AND version = $2', [role, version]);
  return rows[0];
}

export async function insertMetadata(q: Queryable, m: StoredMetadata): Promise<void> {
  await q.query('INSERT INTO tuf_metadata (role, version, body) VALUES ($1, $2, $3)', [m.role, m.version, m.body]);
}

/** A target file by the name it is served under, `<sha256>.<path>`. */
export async function targetFile(q: Queryable, sha256: string, path: string): Promise<string | undefined> {
  const rows = await q.query<{ body: string }>('SELECT body FROM tuf_target_files WHERE sha256 = $1 AND path = $2', [sha256, path]);
  return rows[0]?.body;
}

export async function putTargetFile(q: Queryable, sha256: string, path: string, body: string): Promise<void> {
  await q.query('INSERT INTO tuf_target_files (sha256, path, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [sha256, path, body]);
}
