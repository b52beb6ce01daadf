import { rcompare, satisfies } from 'semver';
import type { Digest } from '../../common/digest.js';
import type { Affected } from '../../wire/advisory.js';
import { semverOfMargo } from '../../wire/ids.js';
import type { AdvisoryRecord } from '../store/advisories.js';
import type { Queryable } from '../store/store.js';

/** One admitted version of an app, as advisories match it. */
export interface VersionRef {
  appId: string;
  vendor: string;
  version: string;
  /** The OCI manifest digest devices pull by. */
  digest: Digest;
  /** The component's own digest (the layer), when admission recorded it. */
  componentDigest?: Digest;
}

type Matchable = Pick<AdvisoryRecord, 'affected' | 'vendor'> & { notAffected?: readonly string[] };

/**
 * Whether the advisory affects this version. A vendor's advisory affects only that vendor's apps,
 * whatever its digests or ranges say; a version its vendor stated `not_affected` (VEX) is exempt.
 * Purls are matched against SBOMs, which are not stored yet.
 */
export function affects(advisory: Matchable, v: VersionRef): boolean {
  if (advisory.vendor !== null && advisory.vendor !== v.vendor) return false;
  if (advisory.notAffected?.includes(`${v.appId}@${v.version}`)) return false;
  return advisory.affected.some((a) => matchesOne(a, v));
}

function matchesOne(a: Affected, v: VersionRef): boolean {
  if (a.app !== undefined) return a.app === v.appId && satisfies(semverOfMargo(v.version), a.versions!, { includePrerelease: true });
  if (a.digests) return a.digests.includes(v.digest) || (v.componentDigest !== undefined && a.digests.includes(v.componentDigest));
  return false;
}

/** Newest first, by SemVer precedence (build metadata does not order; the text breaks ties). */
export function newestFirst<T extends { version: string }>(versions: readonly T[]): T[] {
  return [...versions].sort((a, b) => rcompare(semverOfMargo(a.version), semverOfMargo(b.version)) || (a.version < b.version ? 1 : -1));
}

interface VersionRow {
  app_id: string;
  vendor: string;
  version: string;
  digest: Digest;
  component_digest: Digest | null;
}

const toRef = (r: VersionRow): VersionRef => ({
  appId: r.app_id,
  vendor: r.vendor,
  version: r.version,
  digest: r.digest,
  ...(r.component_digest ? { componentDigest: r.component_digest } : {}),
});

const VERSIONS = `SELECT v.app_id, a.vendor, v.version, v.digest, v.verification->>'componentDigest' AS component_digest
  FROM app_versions v JOIN apps a ON a.id = v.app_id`;

/** Admitted versions an advisory could affect: those of the apps it names, of the digests it names, of its vendor. */
export async function candidateVersions(q: Queryable, advisory: Matchable): Promise<VersionRef[]> {
  const apps = advisory.affected.flatMap((a) => (a.app !== undefined ? [a.app] : []));
  const digests = advisory.affected.flatMap((a) => a.digests ?? []);
  if (apps.length === 0 && digests.length === 0) return [];
  const rows = await q.query<VersionRow>(
    `${VERSIONS} WHERE (v.app_id = ANY($1::text[]) OR v.digest = ANY($2::text[]) OR v.verification->>'componentDigest' = ANY($2::text[]))
       AND ($3::text IS NULL OR a.vendor = $3::text)
     ORDER BY v.app_id, v.version`,
    [apps, digests, advisory.vendor],
  );
  return rows.map(toRef);
}

/** The admitted versions the advisory affects now (versions admitted later are matched when they are used). */
export async function affectedVersions(q: Queryable, advisory: Matchable): Promise<VersionRef[]> {
  return (await candidateVersions(q, advisory)).filter((v) => affects(advisory, v));
}

/** Every admitted version of one app, newest first. */
export async function versionsOfApp(q: Queryable, appId: string): Promise<VersionRef[]> {
  return newestFirst((await q.query<VersionRow>(`${VERSIONS} WHERE v.app_id = $1`, [appId])).map(toRef));
}
