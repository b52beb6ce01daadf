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
