import { rcompare, satisfies, valid } from 'semver';
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
  /** Packages its SBOM lists, as far as the advisories at hand name them (`pkg:type/namespace/name`). */
  packages?: { package: string; version: string }[];
}

type Matchable = Pick<AdvisoryRecord, 'affected' | 'vendor'> & { notAffected?: readonly string[] };

/**
 * Whether the advisory affects this version. A vendor's advisory affects only that vendor's apps,
 * whatever its digests or ranges say; a version its vendor stated `not_affected` (VEX) is exempt.
 * Purls are matched against the packages of the version's vendor-signed SBOM, by package and
 * SemVer range (a package version that is not SemVer, after a leading `v`, matches no range).
 */
export function affects(advisory: Matchable, v: VersionRef): boolean {
  if (advisory.vendor !== null && advisory.vendor !== v.vendor) return false;
  if (advisory.notAffected?.includes(`${v.appId}@${v.version}`)) return false;
  return advisory.affected.some((a) => matchesOne(a, v));
}

function matchesOne(a: Affected, v: VersionRef): boolean {
  if (a.app !== undefined) return a.app === v.appId && satisfies(semverOfMargo(v.version), a.versions!, { includePrerelease: true });
  if (a.digests) return a.digests.includes(v.digest) || (v.componentDigest !== undefined && a.digests.includes(v.componentDigest));
  return v.packages?.some((p) => p.package === a.purl && inRange(p.version, a.versions!)) ?? false;
}

function inRange(version: string, range: string): boolean {
  const semver = valid(version) ?? valid(version.replace(/^v/, ''));
  return semver !== null && satisfies(semver, range, { includePrerelease: true });
}

/** The packages these advisories name by purl: what a version's SBOM is read for. */
export function purlsOf(advisories: readonly Pick<AdvisoryRecord, 'affected'>[]): string[] {
  return [...new Set(advisories.flatMap((a) => a.affected.flatMap((x) => (x.purl !== undefined ? [x.purl] : []))))];
}

/** The apps, digests and packages an advisory's entries name, each list as written. */
export function namedBy(advisory: Pick<AdvisoryRecord, 'affected'>): { apps: string[]; digests: string[]; purls: string[] } {
  return {
    apps: advisory.affected.flatMap((a) => (a.app !== undefined ? [a.app] : [])),
    digests: advisory.affected.flatMap((a) => a.digests ?? []),
    purls: purlsOf([advisory]),
  };
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
  packages: { package: string; version: string }[];
}

const toRef = (r: VersionRow): VersionRef => ({
  appId: r.app_id,
  vendor: r.vendor,
  version: r.version,
  digest: r.digest,
  ...(r.component_digest ? { componentDigest: r.component_digest } : {}),
  ...(r.packages.length > 0 ? { packages: r.packages } : {}),
});

/** $1 is the package names of interest (purls without version); only those of a version's packages are read. */
const VERSIONS = `SELECT v.app_id, a.vendor, v.version, v.digest, v.verification->>'componentDigest' AS component_digest,
    COALESCE((SELECT jsonb_agg(jsonb_build_object('package', p.package, 'version', p.package_version)) FROM app_version_packages p
      WHERE p.app_id = v.app_id AND p.version = v.version AND p.package = ANY($1::text[])), '[]'::jsonb) AS packages
  FROM app_versions v JOIN apps a ON a.id = v.app_id`;

/** Admitted versions an advisory could affect: those of the apps, digests or packages it names, of its vendor. */
export async function candidateVersions(q: Queryable, advisory: Matchable): Promise<VersionRef[]> {
  const { apps, digests, purls } = namedBy(advisory);
  if (apps.length === 0 && digests.length === 0 && purls.length === 0) return [];
  const rows = await q.query<VersionRow>(
    `${VERSIONS} WHERE (v.app_id = ANY($2::text[]) OR v.digest = ANY($3::text[]) OR v.verification->>'componentDigest' = ANY($3::text[])
         OR EXISTS (SELECT 1 FROM app_version_packages p WHERE p.app_id = v.app_id AND p.version = v.version AND p.package = ANY($1::text[])))
       AND ($4::text IS NULL OR a.vendor = $4::text)
     ORDER BY v.app_id, v.version`,
    [purls, apps, digests, advisory.vendor],
  );
  return rows.map(toRef);
}

/** The admitted versions the advisory affects now (versions admitted later are matched when they are used). */
export async function affectedVersions(q: Queryable, advisory: Matchable): Promise<VersionRef[]> {
  return (await candidateVersions(q, advisory)).filter((v) => affects(advisory, v));
}

/** Every admitted version of one app, newest first, with its packages among `purls`. */
export async function versionsOfApp(q: Queryable, appId: string, purls: readonly string[] = []): Promise<VersionRef[]> {
  return newestFirst((await q.query<VersionRow>(`${VERSIONS} WHERE v.app_id = $2`, [purls, appId])).map(toRef));
}

/** One admitted version, with its packages among `purls`. */
export async function versionRefOf(q: Queryable, appId: string, version: string, purls: readonly string[] = []): Promise<VersionRef | undefined> {
  const [row] = await q.query<VersionRow>(`${VERSIONS} WHERE v.app_id = $2 AND v.version = $3`, [purls, appId, version]);
  return row && toRef(row);
}
