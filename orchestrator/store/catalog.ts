import type { Digest } from '../../common/digest.js';
import type { Queryable } from './store.js';
import { jsonParam } from './sanitise.js';

export interface VendorRecord {
  name: string;
  trustPolicy: Record<string, unknown>;
  createdAt: Date;
}
export interface AppRecord {
  id: string;
  vendor: string;
  description: string;
  createdAt: Date;
}
/**
 * What admission verified for a version, kept so that a later re-check against an unchanged
 * policy and unchanged fleet roots needs no network (docs/admission.md).
 */
export interface VersionVerification {
  /** `compilePolicy(...).fingerprint` of the vendor policy the artifact verified against. */
  policyFingerprint: string;
  /** `compileRoots(...).fingerprint` of the fleet signing roots used. */
  rootsFingerprint: string;
  /** SHA-256 of the component bytes (the layer); `component.digest` is the manifest's. */
  componentDigest: Digest;
  /** Who signed: `key <id>` or `<subject> (issuer …)`. */
  signer: string;
  provenance?: { builderId: string; sourceRepository?: string };
  /** The vendor-signed SBOM admission read: how many components it lists, how many shipped packages were kept. */
  sbom?: { components: number; packages: number };
  verifiedAt: string;
}

export interface AppVersionRecord {
  appId: string;
  version: string;
  /** `repository` is oci://registry/repo; `digest` the OCI manifest digest devices pull by; `sizeBytes` the component's. */
  component: { repository: string; digest: Digest; sizeBytes: number };
  /** Read from the component bytes at admission, never taken from the vendor. */
  imports: string[];
  /** Null only for rows written before verification was recorded. */
  verification: VersionVerification | null;
  createdAt: Date;
}

export async function insertVendor(q: Queryable, name: string, trustPolicy: Record<string, unknown>): Promise<boolean> {
  const rows = await q.query('INSERT INTO vendors (name, trust_policy) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING name', [name, jsonParam(trustPolicy)]);
  return rows.length === 1;
}

export async function setTrustPolicy(q: Queryable, name: string, trustPolicy: Record<string, unknown>): Promise<boolean> {
  return (await q.query('UPDATE vendors SET trust_policy = $2 WHERE name = $1 RETURNING name', [name, jsonParam(trustPolicy)])).length === 1;
}

type VendorRow = { name: string; trust_policy: Record<string, unknown>; created_at: Date };
const toVendor = (r: VendorRow): VendorRecord => ({ name: r.name, trustPolicy: r.trust_policy, createdAt: r.created_at });

export async function getVendor(q: Queryable, name: string): Promise<VendorRecord | undefined> {
  const [row] = await q.query<VendorRow>('SELECT * FROM vendors WHERE name = $1', [name]);
  return row && toVendor(row);
}

/** Devices that run (or are moving to) an app of this vendor: their documents carry its policy. */
export async function devicesRunningVendor(q: Queryable, vendor: string): Promise<string[]> {
  const rows = await q.query<{ device_id: string }>(
    `SELECT DISTINCT p.device_id FROM placements p JOIN deployments d ON d.id = p.deployment_id JOIN apps a ON a.id = d.app_id
     WHERE a.vendor = $1 ORDER BY p.device_id`,
    [vendor],
  );
  return rows.map((r) => r.device_id);
}

/** Every vendor, or only `only` (a vendor token reads itself alone). */
export async function listVendors(q: Queryable, only?: string): Promise<VendorRecord[]> {
  const rows = await q.query<VendorRow>('SELECT * FROM vendors WHERE $1::text IS NULL OR name = $1 ORDER BY name', [only ?? null]);
  return rows.map(toVendor);
}

interface AppRow {
  id: string;
  vendor: string;
  description: string;
  created_at: Date;
}
const toApp = (r: AppRow): AppRecord => ({ id: r.id, vendor: r.vendor, description: r.description, createdAt: r.created_at });

export async function insertApp(q: Queryable, app: { id: string; vendor: string; description: string }): Promise<boolean> {
  const rows = await q.query('INSERT INTO apps (id, vendor, description) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id', [
    app.id,
    app.vendor,
    app.description,
  ]);
  return rows.length === 1;
}

export async function getApp(q: Queryable, id: string): Promise<AppRecord | undefined> {
  const rows = await q.query<AppRow>('SELECT * FROM apps WHERE id = $1', [id]);
  return rows[0] && toApp(rows[0]);
}

export async function listApps(q: Queryable, vendor?: string): Promise<AppRecord[]> {
  const rows =
    vendor === undefined
      ? await q.query<AppRow>('SELECT * FROM apps ORDER BY id')
      : await q.query<AppRow>('SELECT * FROM apps WHERE vendor = $1 ORDER BY id', [vendor]);
  return rows.map(toApp);
}

interface VersionRow {
  app_id: string;
  version: string;
  repository: string;
  digest: Digest;
  size_bytes: string | number;
  imports: string[];
  verification: VersionVerification | null;
  created_at: Date;
}
const toVersion = (r: VersionRow): AppVersionRecord => ({
  appId: r.app_id,
  version: r.version,
  component: { repository: r.repository, digest: r.digest, sizeBytes: Number(r.size_bytes) },
  imports: r.imports,
  verification: r.verification ?? null,
  createdAt: r.created_at,
});

/**
 * Versions are immutable once registered: false when that version exists already. Only what
 * admission verified goes in here (orchestrator/catalog/service.ts addVersion); tests about
 * scheduling insert already-verified rows directly.
 */
export async function insertVersion(
  q: Queryable,
  v: Omit<AppVersionRecord, 'createdAt' | 'verification'> & { verification?: VersionVerification | null },
): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO app_versions (app_id, version, repository, digest, size_bytes, imports, verification) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT DO NOTHING RETURNING version`,
    [v.appId, v.version, v.component.repository, v.component.digest, v.component.sizeBytes, jsonParam(v.imports), jsonParam(v.verification)],
  );
  return rows.length === 1;
}

/**
 * `lock`: 'key share' keeps the row from being deleted (a retirement) until this transaction
 * ends, as a deployment about to reference it needs; 'update' is the retirement's own lock.
 */
export async function getVersion(q: Queryable, appId: string, version: string, lock?: 'key share' | 'update'): Promise<AppVersionRecord | undefined> {
  const suffix = lock === 'key share' ? ' FOR KEY SHARE' : lock === 'update' ? ' FOR UPDATE' : '';
  const rows = await q.query<VersionRow>(`SELECT * FROM app_versions WHERE app_id = $1 AND version = $2${suffix}`, [appId, version]);
  return rows[0] && toVersion(rows[0]);
}

/** How a deployment still needs a version: what it runs (or rolls away from), rolls to, can roll back to, or has placed. */
export type VersionUse = 'current' | 'rollout target' | 'rollback target' | 'placed';

/**
 * The deployments that still need this version's artifact: as their current version (during a
 * rollout, the one being moved away from), as the target of an unfinished rollout, as the
 * version a rollback would return to (kept until the next rollout or a rollback clears it), or
 * through a placement that still carries it.
 */
export async function versionUsers(q: Queryable, appId: string, version: string): Promise<{ deploymentId: string; uses: VersionUse[] }[]> {
  const rows = await q.query<{ id: string; current: boolean; target: boolean; previous: boolean; placed: boolean }>(
    `SELECT d.id, d.version = $2::text AS current,
            COALESCE(d.target_version = $2::text, false) AS target,
            COALESCE(d.previous_version = $2::text, false) AS previous,
            EXISTS (SELECT 1 FROM placements p WHERE p.deployment_id = d.id AND p.version = $2::text) AS placed
     FROM deployments d WHERE d.app_id = $1`,
    [appId, version],
  );
  return rows
    .map((r) => ({
      deploymentId: r.id,
      uses: (
        [
          ['current', r.current],
          ['rollout target', r.target],
          ['rollback target', r.previous],
          ['placed', r.placed],
        ] as const
      )
        .filter(([, on]) => on)
        .map(([use]) => use),
    }))
    .filter((u) => u.uses.length > 0)
    .sort((a, b) => (a.deploymentId < b.deploymentId ? -1 : a.deploymentId > b.deploymentId ? 1 : 0));
}

/** Removes a version row; false when there was none. Callers check `versionUsers` first, in the same transaction. */
export async function deleteVersion(q: Queryable, appId: string, version: string): Promise<boolean> {
  return (await q.query('DELETE FROM app_versions WHERE app_id = $1 AND version = $2 RETURNING version', [appId, version])).length === 1;
}

/** Every catalog version's artifact: what the control plane's mirror must keep (orchestrator/mirror/gc.ts). */
export async function versionArtifacts(q: Queryable): Promise<{ repository: string; digest: Digest }[]> {
  return q.query<{ repository: string; digest: Digest }>('SELECT DISTINCT repository, digest FROM app_versions ORDER BY repository, digest');
}

export async function listVersions(q: Queryable, appId: string): Promise<AppVersionRecord[]> {
  return (await q.query<VersionRow>('SELECT * FROM app_versions WHERE app_id = $1 ORDER BY created_at, version', [appId])).map(toVersion);
}

/** A version's shipped packages from its SBOM (migration 15), written with the version. */
export async function insertVersionPackages(
  q: Queryable,
  appId: string,
  version: string,
  packages: readonly { package: string; version: string }[],
): Promise<void> {
  if (packages.length === 0) return;
  await q.query(
    `INSERT INTO app_version_packages (app_id, version, package, package_version)
     SELECT $1, $2, * FROM unnest($3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
    [appId, version, packages.map((p) => p.package), packages.map((p) => p.version)],
  );
}
