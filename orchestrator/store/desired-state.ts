import type { Queryable } from './store.js';

// Bytes travel as base64 text (encode/decode in SQL): PGlite's JavaScript bytea (hex) codec costs
// ~6x more per byte than base64 in measurements here, and PostgreSQL takes either alike.

/** A device's current desired state: the exact manifest bytes and their digest (the ETag). */
export interface StoredManifest {
  deviceId: string;
  manifestVersion: number;
  digest: string;
  bytes: Buffer;
}

export async function getManifest(q: Queryable, deviceId: string): Promise<StoredManifest | undefined> {
  const rows = await q.query<{ manifest_version: string | number; manifest_digest: string; manifest_b64: string }>(
    `SELECT manifest_version, manifest_digest, encode(manifest_bytes, 'base64') AS manifest_b64 FROM device_desired_state WHERE device_id = $1`,
    [deviceId],
  );
  const r = rows[0];
  if (!r || r.manifest_digest === '') return undefined;
  return { deviceId, manifestVersion: Number(r.manifest_version), digest: r.manifest_digest, bytes: Buffer.from(r.manifest_b64, 'base64') };
}

/**
 * Allocates the device's next manifestVersion inside the caller's transaction: 1 for a new device,
 * otherwise one above the stored one. The upsert locks the row until commit, so two writers
 * serialize and a rolled-back allocation leaves nothing behind.
 */
export async function nextManifestVersion(tx: Queryable, deviceId: string): Promise<number> {
  const rows = await tx.query<{ manifest_version: string | number }>(
    `INSERT INTO device_desired_state (device_id, manifest_version, manifest_digest, manifest_bytes) VALUES ($1, 1, '', ''::bytea)
     ON CONFLICT (device_id) DO UPDATE SET manifest_version = device_desired_state.manifest_version + 1
     RETURNING manifest_version`,
    [deviceId],
  );
  return Number(rows[0]!.manifest_version);
}

export async function saveManifest(tx: Queryable, m: StoredManifest): Promise<void> {
  await tx.query(
    'UPDATE device_desired_state SET manifest_digest = $2, manifest_bytes = $3, updated_at = now() WHERE device_id = $1 AND manifest_version = $4',
    [m.deviceId, m.digest, m.bytes, m.manifestVersion],
  );
}

/** Content-addressed: the same digest is the same bytes, so an existing row is kept as is. */
export async function putDocument(
  tx: Queryable,
  deviceId: string,
  doc: { digest: string; mediaType: string; bytes: Buffer; deploymentId?: string },
): Promise<void> {
  await tx.query('INSERT INTO desired_state_documents (digest, media_type, bytes) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING', [
    doc.digest,
    doc.mediaType,
    doc.bytes,
  ]);
  await tx.query('INSERT INTO device_documents (device_id, digest, deployment_id) VALUES ($1, $2, $3) ON CONFLICT (device_id, digest) DO NOTHING', [
    deviceId,
    doc.digest,
    doc.deploymentId ?? null,
  ]);
}

/** A document the device's manifests have named; others' documents are not visible to it. */
export async function getDocument(
  q: Queryable,
  deviceId: string,
  digest: string,
): Promise<{ mediaType: string; bytes: Buffer; deploymentId: string | null } | undefined> {
  const rows = await q.query<{ media_type: string; b64: string; deployment_id: string | null }>(
    `SELECT d.media_type, encode(d.bytes, 'base64') AS b64, dd.deployment_id FROM device_documents dd JOIN desired_state_documents d ON d.digest = dd.digest
     WHERE dd.device_id = $1 AND dd.digest = $2`,
    [deviceId, digest],
  );
  const r = rows[0];
  return r && { mediaType: r.media_type, bytes: Buffer.from(r.b64, 'base64'), deploymentId: r.deployment_id };
}

/** Whether any manifest of this device has named the deployment. */
export async function deviceHasHadDeployment(q: Queryable, deviceId: string, deploymentId: string): Promise<boolean> {
  const rows = await q.query('SELECT 1 FROM device_documents WHERE device_id = $1 AND deployment_id = $2 LIMIT 1', [deviceId, deploymentId]);
  return rows.length > 0;
}

/** Every stored manifest of these devices (devices without one are absent from the map). */
export async function getManifests(q: Queryable, deviceIds: readonly string[]): Promise<Map<string, StoredManifest>> {
  const out = new Map<string, StoredManifest>();
  if (deviceIds.length === 0) return out;
  const rows = await q.query<{ device_id: string; manifest_version: string | number; manifest_digest: string; manifest_b64: string }>(
    `SELECT device_id, manifest_version, manifest_digest, encode(manifest_bytes, 'base64') AS manifest_b64 FROM device_desired_state
     WHERE device_id = ANY($1::text[]) AND manifest_digest <> ''`,
    [deviceIds],
  );
  for (const r of rows)
    out.set(r.device_id, {
      deviceId: r.device_id,
      manifestVersion: Number(r.manifest_version),
      digest: r.manifest_digest,
      bytes: Buffer.from(r.manifest_b64, 'base64'),
    });
  return out;
}

/**
 * nextManifestVersion for many devices in one statement. Rows are locked in the order given, so
 * callers pass sorted ids: two writers locking overlapping sets then cannot deadlock.
 */
export async function nextManifestVersions(tx: Queryable, deviceIds: readonly string[]): Promise<Map<string, number>> {
  if (deviceIds.length === 0) return new Map();
  const rows = await tx.query<{ device_id: string; manifest_version: string | number }>(
    `INSERT INTO device_desired_state (device_id, manifest_version, manifest_digest, manifest_bytes)
     SELECT id, 1, '', ''::bytea FROM unnest($1::text[]) WITH ORDINALITY AS u(id, n) ORDER BY n
     ON CONFLICT (device_id) DO UPDATE SET manifest_version = device_desired_state.manifest_version + 1
     RETURNING device_id, manifest_version`,
    [deviceIds],
  );
  return new Map(rows.map((r) => [r.device_id, Number(r.manifest_version)]));
}

/** saveManifest for many devices in one statement. */
export async function saveManifests(tx: Queryable, manifests: readonly StoredManifest[]): Promise<void> {
  if (manifests.length === 0) return;
  await tx.query(
    `UPDATE device_desired_state s SET manifest_digest = u.digest, manifest_bytes = u.bytes, updated_at = now()
     FROM (SELECT device_id, digest, decode(b64, 'base64') AS bytes, version
           FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS x(device_id, digest, b64, version)) AS u
     WHERE s.device_id = u.device_id AND s.manifest_version = u.version`,
    [
      manifests.map((m) => m.deviceId),
      manifests.map((m) => m.digest),
      manifests.map((m) => m.bytes.toString('base64')),
      manifests.map((m) => m.manifestVersion),
    ],
  );
}

/**
 * putDocument for many (device, document) pairs: each distinct document stored once, every pair
 * granted, in two statements.
 */
export async function putDocuments(
  tx: Queryable,
  docs: readonly { deviceId: string; digest: string; mediaType: string; bytes: Buffer; deploymentId?: string }[],
): Promise<void> {
  if (docs.length === 0) return;
  const distinct = new Map<string, (typeof docs)[number]>();
  for (const d of docs) if (!distinct.has(d.digest)) distinct.set(d.digest, d);
  const unique = [...distinct.values()];
  await tx.query(
    `INSERT INTO desired_state_documents (digest, media_type, bytes)
     SELECT digest, media_type, decode(b64, 'base64') FROM unnest($1::text[], $2::text[], $3::text[]) AS u(digest, media_type, b64)
     ON CONFLICT (digest) DO NOTHING`,
    [unique.map((d) => d.digest), unique.map((d) => d.mediaType), unique.map((d) => d.bytes.toString('base64'))],
  );
  await tx.query(
    `INSERT INTO device_documents (device_id, digest, deployment_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (device_id, digest) DO NOTHING`,
    [docs.map((d) => d.deviceId), docs.map((d) => d.digest), docs.map((d) => d.deploymentId ?? null)],
  );
}
