import { isDigest, type Digest } from '../common/digest.js';
import { BerthError } from '../common/errors.js';

/**
 * An artifact reference: `oci://host[:port]/repo[:tag|@sha256:…]`. Tags are Margo's SemVer form
 * (no leading `v`, `_` in place of `+`), so a tag names a release and nothing else.
 */
export interface Reference {
  /** `host[:port]` exactly as written; also the key for credentials and CA configuration. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: Digest;
}

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])(?::[0-9]{1,5})?$/;
// Distribution spec repository name grammar.
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const NUM = '(?:0|[1-9][0-9]*)';
const ID = '[0-9A-Za-z-]+';
/** SemVer 2.0 with `_` for `+`, as Margo writes versions in OCI tags. */
const MARGO_SEMVER_TAG = new RegExp(`^${NUM}\\.${NUM}\\.${NUM}(?:-${ID}(?:\\.${ID})*)?(?:_${ID}(?:\\.${ID})*)?$`);

export function isMargoVersionTag(tag: string): boolean {
  if (tag.length > 128 || !MARGO_SEMVER_TAG.test(tag)) return false;
  // SemVer forbids leading zeros in numeric pre-release identifiers.
  const pre = /-([^_]*)/.exec(tag)?.[1];
  return !pre || pre.split('.').every((id) => !/^0[0-9]+$/.test(id));
}

/** `1.2.3+build.5` → `1.2.3_build.5`; throws on anything that is not SemVer. */
export function versionToTag(version: string): string {
  const tag = version.replace('+', '_');
  if (version.startsWith('v') || !isMargoVersionTag(tag)) {
    throw new BerthError('oci.bad-reference', `'${version}' is not a SemVer 2.0 version (no leading 'v')`);
  }
  return tag;
}

export function parseReference(text: string): Reference {
  const bad = (why: string): BerthError => new BerthError('oci.bad-reference', `bad artifact reference '${text}': ${why}`);
  if (!text.startsWith('oci://')) throw bad("it must start with 'oci://'");
  let rest = text.slice('oci://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw bad('no repository after the registry host');
  const registry = rest.slice(0, slash).toLowerCase();
  if (!HOST.test(registry)) throw bad(`'${registry}' is not a registry host[:port]`);
  rest = rest.slice(slash + 1);

  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw bad(`'${d}' is not a sha256 digest`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isMargoVersionTag(tag)) {
      throw bad(`tag '${tag}' is not a SemVer version as Margo writes it (no leading 'v', '_' instead of '+')`);
    }
  }
  if (!REPOSITORY.test(rest) || rest.length > 255) throw bad(`'${rest}' is not a valid repository name`);
  const ref: Reference = { registry, repository: rest };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

export function formatReference(ref: Reference): string {
  return `oci://${ref.registry}/${ref.repository}${ref.tag ? ':' + ref.tag : ''}${ref.digest ? '@' + ref.digest : ''}`;
}

/** The same reference pinned to a digest (the form devices pull). */
export function pinned(ref: Reference, digest: Digest): Reference {
  return { registry: ref.registry, repository: ref.repository, digest };
}
