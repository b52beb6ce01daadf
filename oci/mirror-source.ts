import type { TransportOptions } from './transport.js';
import type { Digest } from '../common/digest.js';
import { BerthError } from '../common/errors.js';
import { bundleRootsPem } from '../runtime/agent/trust-bundle.js';
import { loadIdentity } from '../runtime/agent/identity-files.js';
import { pullComponent, type PulledArtifact } from './artifact.js';
import { RegistryClient, type Progress, type RegistryClientOptions } from './client.js';
import type { Reference } from './reference.js';
import type { ArtifactSource } from './source.js';
import { DistributionError } from './server/errors.js';
import { checkRepository } from './server/names.js';

/**
 * The control plane's artifact mirror, seen from a device (docs/mirror.md): the OCI pull
 * endpoints under `/v2/` of the device mTLS server, holding copies of admitted artifacts. The
 * reference keeps naming the origin (`registry/repo`, as the signed desired state says), so
 * the vendor's namespace policy is checked against the origin; only the path it is fetched
 * from changes (mirrorRepository). Every digest is checked exactly as from a registry.
 */
export interface MirrorTls {
  /** The fleet roots the control plane's server certificate chains to. */
  ca: string | string[];
  /** The device key and certificate chain it was issued at onboarding. */
  key: string;
  cert: string;
  /** That the server is the control plane, not only a fleet certificate for its host name (its SPIFFE ID; runtime/agent/control-plane-identity.ts). */
  checkServerIdentity?: TransportOptions['checkServerIdentity'];
}

export interface MirrorSourceOptions {
  /** The control plane's device URL, `https://host:port`. */
  url: string;
  /** Called on every fetch, so a renewed certificate is used as soon as it is saved. */
  tls: () => MirrorTls | Promise<MirrorTls>;
  /** Timeouts, retries and size limits; TLS and auth come from `tls`. */
  client?: Omit<RegistryClientOptions, 'ca' | 'key' | 'cert' | 'checkServerIdentity' | 'plainHttp' | 'credentials'>;
}

export class MirrorSource implements ArtifactSource {
  /** `host:port` of the mirror. */
  readonly host: string;

  constructor(private readonly options: MirrorSourceOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new BerthError('mirror.bad-url', `mirror URL '${options.url.slice(0, 100)}' is not a URL`);
    }
    if (url.protocol !== 'https:') throw new BerthError('mirror.bad-url', `the mirror is reached over mutual TLS: '${url.origin}' is not https`);
    if (url.pathname !== '/' || url.search || url.username)
      throw new BerthError('mirror.bad-url', 'the mirror URL is the control plane origin only (https://host:port)');
    this.host = url.host;
  }

  /** Devices pull by digest only; a tag here means the caller skipped admission's resolution. */
  async resolve(ref: Reference): Promise<Digest> {
    if (ref.digest) return ref.digest;
    throw new BerthError(
      'mirror.digest-required',
      `the mirror serves artifacts by digest only; oci://${ref.registry}/${ref.repository}:${ref.tag ?? ''} names a tag`,
    );
  }

  async fetch(ref: Reference & { digest: Digest }, onProgress?: Progress): Promise<PulledArtifact> {
    const tls = await this.options.tls();
    const client = new RegistryClient(this.host, {
      ...this.options.client,
      ca: tls.ca,
      key: tls.key,
      cert: tls.cert,
      ...(tls.checkServerIdentity ? { checkServerIdentity: tls.checkServerIdentity } : {}),
    });
    return pullComponent(client, mirrorRepository(ref), ref.digest, onProgress);
  }
}

/** The device's own TLS material, from the identity directory the agent keeps (runtime/agent). */
export function deviceMirrorTls(identityDir: string): () => Promise<MirrorTls> {
  return async () => {
    const identity = await loadIdentity(identityDir);
    if (!identity) throw new BerthError('mirror.no-identity', `no device identity in ${identityDir}: onboard the device first`);
    const roots = await bundleRootsPem(identityDir);
    if (!roots || roots.length === 0) throw new BerthError('mirror.no-identity', `no fleet trust bundle in ${identityDir}`);
    return { ca: roots, key: identity.keyPem, cert: identity.certificatePem };
  };
}

/**
 * Origin `registry/repository` → the mirror's repository name: the registry becomes the first
 * path component, `host` or `host_port` (DNS names and IPv4 addresses cannot contain `_`), or
 * `ip6_<eight groups joined by '.'>[_port]` for an IPv6 literal; the origin repository follows
 * unchanged. Two different origins never share a mirror repository.
 */
export function mirrorRepository(ref: Pick<Reference, 'registry' | 'repository'>): string {
  const registry = ref.registry.toLowerCase();
  const v6 = /^\[([0-9a-f:]+)\](?::([0-9]{1,5}))?$/.exec(registry);
  let head: string;
  if (v6) {
    head = `ip6_${expandIpv6(v6[1]!, registry).join('.')}${v6[2] ? `_${v6[2]}` : ''}`;
  } else {
    const m = /^([a-z0-9.-]+)(?::([0-9]{1,5}))?$/.exec(registry);
    if (!m) throw new BerthError('mirror.bad-reference', `registry '${registry.slice(0, 100)}' has no mirror repository name`);
    head = `${m[1]}${m[2] ? `_${m[2]}` : ''}`;
  }
  const name = `${head}/${ref.repository}`;
  try {
    return checkRepository(name);
  } catch (err) {
    if (err instanceof DistributionError)
      throw new BerthError('mirror.bad-reference', `oci://${registry}/${ref.repository} has no mirror repository name: ${err.message}`);
    throw err;
  }
}

function expandIpv6(text: string, registry: string): string[] {
  const bad = () => new BerthError('mirror.bad-reference', `'${registry}' is not an IPv6 address`);
  const halves = text.split('::');
  if (halves.length > 2) throw bad();
  const part = (s: string | undefined) => (s ? s.split(':') : []);
  const head = part(halves[0]);
  const tail = part(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || (halves.length === 2 && fill < 1)) throw bad();
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) throw bad();
  return groups.map((g) => parseInt(g, 16).toString(16));
}
