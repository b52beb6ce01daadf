import { PackageURL } from 'packageurl-js';

/**
 * A package as SBOMs list it and advisories name it: a purl without version, qualifiers or
 * subpath, in the purl library's normal form (`pkg:npm/%40scope/name`), declared once so that an
 * advisory's purl and an SBOM's compare as text.
 */
export function packageName(p: PackageURL): string {
  return new PackageURL(p.type, p.namespace, p.name, undefined, undefined, undefined).toString();
}

/** Parses a purl; throws the library's error (naming what is wrong) when it is not one. */
export function parsePurl(purl: string): PackageURL {
  return PackageURL.fromString(purl);
}

/**
 * An OCI artifact's purl, `pkg:oci/<name>@sha256:<hex>`: how an SBOM names a component and a VEX
 * document an app version. `repository` (without `oci://`) and `tag` become qualifiers.
 */
export function ociPurl(name: string, digest: `sha256:${string}`, qualifiers: { repository?: string; tag?: string } = {}): string {
  const q: Record<string, string> = {};
  if (qualifiers.tag) q.tag = qualifiers.tag;
  if (qualifiers.repository) q.repository_url = qualifiers.repository;
  return new PackageURL('oci', undefined, name, digest, Object.keys(q).length > 0 ? q : undefined, undefined).toString();
}
