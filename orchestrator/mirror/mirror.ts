import type { Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { checkComponentManifest } from '../../oci/artifact.js';
import type { RegistryClient } from '../../oci/client.js';
import { referrersTag } from '../../oci/client.js';
import { encodeJson, imageManifestSchema, parseJson, type Descriptor, type ImageIndex } from '../../oci/manifest.js';
import { MEDIA_TYPE } from '../../oci/media-types.js';
import { mirrorRepository } from '../../oci/mirror-source.js';
import { formatReference, type Reference } from '../../oci/reference.js';
import type { RegistryStorage } from '../../oci/server/storage.js';
import { MirrorLock } from './gc.js';

/** Where copies come from: RegistrySource satisfies it (same CA and credential settings as admission). */
export interface OriginRegistries {
  client(registry: string): RegistryClient;
}

export interface MirroredArtifact {
  /** The mirror repository the artifact is served under (`mirrorRepository`). */
  repository: string;
  manifestDigest: Digest;
  /** Referrer manifests (signatures, attestations) copied with it. */
  referrers: Digest[];
}

/** The bounds the device-side puller applies (oci/artifact.ts): nothing larger is worth copying. */
const MAX_REFERRERS = 32;
const MAX_BUNDLE_BYTES = 1024 * 1024;
const MAX_CONFIG_BYTES = 64 * 1024;

/**
 * The control plane's copy of admitted artifacts, for devices that cannot reach the origin
 * registry (docs/mirror.md). `copy` pulls by digest with the ordinary RegistryClient (every
 * digest and size checked on the way in), and writes into a RegistryStorage, which checks
 * every digest again and refuses a manifest before the blobs it names are in. Copying twice is
 * harmless: present blobs are skipped, manifests and links rewritten with the same bytes.
 */
export class ArtifactMirror {
  private readonly logger: Logger;
  /** Copies hold it shared, garbage collection alone (gc.ts). */
  readonly lock = new MirrorLock();

  constructor(
    readonly storage: RegistryStorage,
    private readonly origin: OriginRegistries,
    logger?: Logger,
  ) {
    this.logger = logger ?? silentLogger;
  }

  /** Admission runs its copy and the commit of its version inside this, so no collection runs in between. */
  hold<T>(work: () => Promise<T>): Promise<T> {
    return this.lock.holdShared(work);
  }

  /** The seam admission calls (orchestrator/catalog/artifact-admission.ts `ArtifactMirror`). */
  async copy(ref: Reference & { digest: Digest }): Promise<void> {
    await this.copyArtifact(ref);
  }

  /** Copies the artifact and says what was copied. */
  async copyArtifact(ref: Reference & { digest: Digest }): Promise<MirroredArtifact> {
    const repository = mirrorRepository(ref);
    const client = this.origin.client(ref.registry);
    const what = formatReference({ registry: ref.registry, repository: ref.repository, digest: ref.digest });

    const fetched = await client.getManifest(ref.repository, ref.digest, [MEDIA_TYPE.imageManifest]);
    const manifest = parseJson(fetched.bytes, imageManifestSchema, `manifest ${what}`);
    checkComponentManifest(manifest, what);
    await this.copyBlob(client, ref.repository, repository, manifest.config, MAX_CONFIG_BYTES);
    await this.copyBlob(client, ref.repository, repository, manifest.layers[0]!);
    await this.storage.putManifest(repository, ref.digest, fetched.bytes, fetched.mediaType);

    const referrers = await this.copyReferrers(client, ref.repository, repository, ref.digest);
    this.logger.info({ artifact: what, repository, referrers: referrers.length }, 'artifact mirrored');
    return { repository, manifestDigest: ref.digest, referrers };
  }

  /** Signature and attestation manifests whose own subject is the component, with their blobs. */
  private async copyReferrers(client: RegistryClient, origin: string, repository: string, subject: Digest): Promise<Digest[]> {
    const found = await client.getReferrers(origin, subject);
    if (!found) return [];
    const candidates = found.index.manifests.filter(
      (d) => d.mediaType === MEDIA_TYPE.imageManifest && (d.artifactType ?? MEDIA_TYPE.sigstoreBundle) === MEDIA_TYPE.sigstoreBundle,
    );
    if (candidates.length > MAX_REFERRERS) {
      throw new BerthError('oci.too-large', `${origin}@${subject} has ${candidates.length} referrers, more than the ${MAX_REFERRERS} Berth reads`);
    }
    const copied: Descriptor[] = [];
    for (const d of candidates) {
      const fetched = await client.getManifest(origin, d.digest, [MEDIA_TYPE.imageManifest]);
      const m = parseJson(fetched.bytes, imageManifestSchema, `referrer ${d.digest}`);
      // The index is only a hint: a manifest about something else is not copied.
      if (m.subject?.digest !== subject || m.artifactType !== MEDIA_TYPE.sigstoreBundle) continue;
      await this.copyBlob(client, origin, repository, m.config, MAX_CONFIG_BYTES);
      for (const layer of m.layers) await this.copyBlob(client, origin, repository, layer, MAX_BUNDLE_BYTES);
      await this.storage.putManifest(repository, d.digest, fetched.bytes, fetched.mediaType);
      copied.push(d);
    }
    // Clients that read the referrers tag schema rather than the API find the same list here.
    if (found.via === 'tag' && copied.length > 0) await this.writeReferrersTag(repository, subject, found.index, copied);
    return copied.map((d) => d.digest);
  }

  /** Written from the index already read (not fetched again: the origin tag may have moved since), listing what was copied. */
  private async writeReferrersTag(repository: string, subject: Digest, index: ImageIndex, copied: Descriptor[]): Promise<void> {
    const held = new Set(copied.map((d) => d.digest));
    const kept: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPE.imageIndex, manifests: index.manifests.filter((d) => held.has(d.digest)) };
    await this.storage.putManifest(repository, referrersTag(subject), encodeJson(kept), MEDIA_TYPE.imageIndex);
  }

  private async copyBlob(client: RegistryClient, origin: string, repository: string, descriptor: Descriptor, maxBytes?: number): Promise<void> {
    // A copy already there is re-hashed, not trusted: one altered on disk is fetched again.
    if (await this.storage.holdsIntact(repository, descriptor)) return;
    const bytes = await client.getBlob(origin, descriptor, maxBytes);
    await this.storage.putBlob(repository, bytes, descriptor.digest);
  }
}
