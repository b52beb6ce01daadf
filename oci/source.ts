import type { Digest } from '../common/digest.js';
import { BerthError } from '../common/errors.js';
import { pullComponent, resolveTag, type PulledArtifact } from './artifact.js';
import type { Progress, RegistryClient, RegistryClientOptions } from './client.js';
import { RegistryClient as Client } from './client.js';
import type { Reference } from './reference.js';

/**
 * Where admission and devices get artifacts from. The registry is one implementation; the
 * control plane's mirror (air-gapped sites) is meant to sit beside it behind the same interface.
 */
export interface ArtifactSource {
  /** Tag (or digest) → manifest digest. */
  resolve(ref: Reference): Promise<Digest>;
  /** The artifact at a digest-pinned reference, every digest checked. */
  fetch(ref: Reference & { digest: Digest }, onProgress?: Progress): Promise<PulledArtifact>;
}

export type ClientOptionsFor = (registry: string) => RegistryClientOptions;

export class RegistrySource implements ArtifactSource {
  private readonly clients = new Map<string, RegistryClient>();

  constructor(private readonly optionsFor: ClientOptionsFor = () => ({})) {}

  client(registry: string): RegistryClient {
    let c = this.clients.get(registry);
    if (!c) this.clients.set(registry, (c = new Client(registry, this.optionsFor(registry))));
    return c;
  }

  async resolve(ref: Reference): Promise<Digest> {
    if (ref.digest) return ref.digest;
    if (!ref.tag) throw new BerthError('oci.bad-reference', `oci://${ref.registry}/${ref.repository} names neither a tag nor a digest`);
    return resolveTag(this.client(ref.registry), ref.repository, ref.tag);
  }

  fetch(ref: Reference & { digest: Digest }, onProgress?: Progress): Promise<PulledArtifact> {
    return pullComponent(this.client(ref.registry), ref.repository, ref.digest, onProgress);
  }
}
