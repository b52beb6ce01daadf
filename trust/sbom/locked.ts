import { PackageURL } from 'packageurl-js';
import { BerthError, errorMessage } from '../../common/errors.js';

/**
 * What a lock file says an app was built from, whichever ecosystem wrote it: the one shape the
 * SBOM builder reads for an app's component SBOM and for Berth's own.
 */

export type LockedScope = 'required' | 'optional' | 'dev';
export type LockedHashAlgorithm = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface LockedPackage {
  purl: PackageURL;
  /** `required` and `optional` are installed where the app runs; `dev` only where it is built. */
  scope: LockedScope;
  hashes: { algorithm: LockedHashAlgorithm; hex: string }[];
  /** purls (as strings) of the packages this one depends on, where the lock file says. */
  dependsOn: string[];
}

export interface LockedGraph {
  /** The lock file's name, e.g. `Cargo.lock`. */
  file: string;
  /** purls the app itself depends on; undefined when the lock file does not tell direct from transitive (go.sum). */
  direct: string[] | undefined;
  /** One per distinct purl, in the lock file's order. */
  packages: LockedPackage[];
}

/** A lock file that cannot be read as what its name says, naming the file and where. */
export function lockError(file: string, where: string, what: string): BerthError {
  return new BerthError('malformed-lock-file', `${file}: ${where}: ${what}`, { file, where });
}

/** A purl, with packageurl-js's own checks (e.g. a Go version that is not semver) reported against the lock file. */
export function lockedPurl(file: string, where: string, type: string, namespace: string | undefined, name: string, version: string): PackageURL {
  try {
    return new PackageURL(type, namespace, name, version, undefined, undefined);
  } catch (err) {
    throw lockError(file, where, `no package URL for ${namespace ? namespace + '/' : ''}${name}@${version}: ${errorMessage(err)}`);
  }
}

const SCOPE_RANK: Record<LockedScope, number> = { dev: 0, optional: 1, required: 2 };

/**
 * Packages by purl: one locked version met at several places (npm's nested node_modules,
 * duplicate lines) becomes one package, installed if any place installs it.
 */
export class LockedPackages {
  private readonly byPurl = new Map<string, LockedPackage>();

  add(pkg: LockedPackage): string {
    const key = pkg.purl.toString();
    const known = this.byPurl.get(key);
    if (!known) this.byPurl.set(key, { ...pkg, dependsOn: [...new Set(pkg.dependsOn)] });
    else {
      if (SCOPE_RANK[pkg.scope] > SCOPE_RANK[known.scope]) known.scope = pkg.scope;
      known.dependsOn = [...new Set([...known.dependsOn, ...pkg.dependsOn])];
    }
    return key;
  }

  list(): LockedPackage[] {
    return [...this.byPurl.values()];
  }
}
