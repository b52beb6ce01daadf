import type { Queryable } from './store.js';

/** A device's current desired state: the exact manifest bytes and their digest (the ETag). */
export interface StoredManifest {
  deviceId: string;
  manifestVersion: number;
  digest: string;
  bytes: Buffer;
}

export async function getManifest(q: Queryable, deviceId: string): Promise<StoredManifest | undefined> {
  const rows = await q.query<{ manifest_version: string | number; manifest_digest: string; manifest_bytes: Uint8Array }>(
    'SELECT manifest_version, manifest_digest, manifest_bytes FROM device_desired_state WHERE device_id = $1',
    [deviceId],
  );
  const r = rows[0];
  if (!r || r.manifest_digest === '') return undefined;
  return { deviceId, manifestVersion: Number(r.manifest_version), digest: r.manifest_digest, bytes: Buffer.from(r.manifest_bytes) };
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
  await tx.query('UPDATE device_desired_state SET manifest_digest = $2, manifest_bytes = $3, updated_at = now() WHERE device_id = $1 AND manifest_version = $4', [
    m.deviceId,
    m.digest,
    m.bytes,
    m.manifestVersion,
  ]);
}

/** Content-addressed: the same digest is the same bytes, so an existing row is kept as is. */
export async function putDocument(tx: Queryable, deviceId: string, doc: { digest: string; mediaType: string; bytes: Buffer; deploymentId?: string }): Promise<void> {
  await tx.query('INSERT INTO desired_state_documents (digest, media_type, bytes) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING', [doc.digest, doc.mediaType, doc.bytes]);
  await tx.query('INSERT INTO device_documents (device_id, digest, deployment_id) VALUES ($1, $2, $3) ON CONFLICT (device_id, digest) DO NOTHING', [
    deviceId,
    doc.digest,
    doc.deploymentId ?? null,
  ]);
}

/** A document the device's manifests have named; others' documents are not visible to it. */
export async function getDocument(q: Queryable, deviceId: string, digest: string): Promise<{ mediaType: string; bytes: Buffer; deploymentId: string | null } | undefined> {
  const rows = await q.query<{ media_type: string; bytes: Uint8Array; deployment_id: string | null }>(
    `SELECT d.media_type, d.bytes, dd.deployment_id FROM device_documents dd JOIN desired_state_documents d ON d.digest = dd.digest
     WHERE dd.device_id = $1 AND dd.digest = $2`,
    [deviceId, digest],
  );
  const r = rows[0];
  return r && { mediaType: r.media_type, bytes: Buffer.from(r.bytes), deploymentId: r.deployment_id };
}

/** Whether any manifest of this device has named the deployment. */
export async function deviceHasHadDeployment(q: Queryable, deviceId: string, deploymentId: string): Promise<boolean> {
  const rows = await q.query('SELECT 1 FROM device_documents WHERE device_id = $1 AND deployment_id = $2 LIMIT 1', [deviceId, deploymentId]);
  return rows.length > 0;
}
