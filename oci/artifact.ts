import { sha256Digest, type Digest } from '../common/digest.js';
import { BerthError } from '../common/errors.js';
import { referrersTag, type Progress, type RegistryClient } from './client.js';
import { encodeJson, imageManifestSchema, parseJson, type Descriptor, type ImageIndex, type ImageManifest } from './manifest.js';
import { ANNOTATION, EMPTY_JSON, MEDIA_TYPE } from './media-types.js';

/**
 * The Berth artifact layout (docs/oci-layout.md): a component manifest (wasm config + one
 * `application/wasm` layer) and, for each Sigstore bundle, an OCI 1.1 referrer manifest whose
 * `subject` is the component manifest. Registries without the referrers API (docker-registry
 * 2.8) also get the referrers tag `sha256-<hex>` holding an index of those manifests.
 */
export type BundleKind = 'message-signature' | 'dsse-envelope';

export interface AttachedBundle {
  /** What the bundle carries: a signature over the component, or an attestation (DSSE). */
  kind: BundleKind;
  /** In-toto predicate type of an attestation. */
  predicateType?: string;
  /** The serialized Sigstore bundle (JSON), exactly as signed. */
  bytes: Uint8Array;
}

export interface PushedArtifact {
  manifestDigest: Digest;
  componentDigest: Digest;
  referrers: Digest[];
}

export interface PulledArtifact {
  manifestDigest: Digest;
  componentDigest: Digest;
  component: Buffer;
  bundles: AttachedBundle[];
}

export interface PushProgress {
  component?: Progress;
}

const MAX_BUNDLE_BYTES = 1024 * 1024;
const MAX_REFERRERS = 32;

/** The config blob: what the CNCF wasm artifact convention asks for, nothing time-dependent. */
function wasmConfig(componentDigest: Digest): Uint8Array {
  return encodeJson({ architecture: 'wasm', os: 'wasip2', layerDigests: [componentDigest] });
}

export function componentManifest(component: Uint8Array): { manifest: ImageManifest; config: Uint8Array } {
  const componentDigest = sha256Digest(component);
  const config = wasmConfig(componentDigest);
  return {
    config,
    manifest: {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.imageManifest,
      config: { mediaType: MEDIA_TYPE.wasmConfig, digest: sha256Digest(config), size: config.byteLength },
      layers: [{ mediaType: MEDIA_TYPE.wasmLayer, digest: componentDigest, size: component.byteLength }],
    },
  };
}

function referrerManifest(subject: Descriptor, bundleDescriptor: Descriptor, bundle: AttachedBundle): ImageManifest {
  const annotations: Record<string, string> = { [ANNOTATION.bundleContent]: bundle.kind };
  if (bundle.predicateType) annotations[ANNOTATION.predicateType] = bundle.predicateType;
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.imageManifest,
    artifactType: MEDIA_TYPE.sigstoreBundle,
    config: { mediaType: MEDIA_TYPE.emptyJson, digest: sha256Digest(EMPTY_JSON), size: EMPTY_JSON.byteLength },
    layers: [bundleDescriptor],
    subject,
    annotations,
  };
}

export async function pushComponent(
  client: RegistryClient,
  repository: string,
  tag: string,
  component: Uint8Array,
  bundles: AttachedBundle[],
  progress: PushProgress = {},
): Promise<PushedArtifact> {
  const { manifest, config } = componentManifest(component);
  await client.pushBlob(repository, component, progress.component);
  await client.pushBlob(repository, config);
  const manifestBytes = encodeJson(manifest);
  const { digest: manifestDigest } = await client.putManifest(repository, tag, manifestBytes, MEDIA_TYPE.imageManifest);
  const subject: Descriptor = { mediaType: MEDIA_TYPE.imageManifest, digest: manifestDigest, size: manifestBytes.byteLength };
  const referrers = await attachBundles(client, repository, subject, bundles);
  return { manifestDigest, componentDigest: manifest.layers[0]!.digest, referrers };
}

/** Each bundle as a referrer of `subject`, plus the referrers tag when the registry does not index them itself. */
async function attachBundles(client: RegistryClient, repository: string, subject: Descriptor, bundles: readonly AttachedBundle[]): Promise<Digest[]> {
  const referrers: Descriptor[] = [];
  let registryIndexes = true;
  if (bundles.length > 0) await client.pushBlob(repository, EMPTY_JSON);
  for (const bundle of bundles) {
    const bundleDigest = await client.pushBlob(repository, bundle.bytes);
    const bundleDescriptor: Descriptor = { mediaType: MEDIA_TYPE.sigstoreBundle, digest: bundleDigest, size: bundle.bytes.byteLength };
    const ref = referrerManifest(subject, bundleDescriptor, bundle);
    const bytes = encodeJson(ref);
    const put = await client.putManifest(repository, sha256Digest(bytes), bytes, MEDIA_TYPE.imageManifest);
    // OCI 1.1: a registry that indexes referrers itself says so with OCI-Subject.
    if (put.subject !== subject.digest) registryIndexes = false;
    const descriptor: Descriptor = { mediaType: MEDIA_TYPE.imageManifest, digest: put.digest, size: bytes.byteLength, artifactType: MEDIA_TYPE.sigstoreBundle };
    if (ref.annotations) descriptor.annotations = ref.annotations;
    referrers.push(descriptor);
  }
  if (referrers.length > 0 && !registryIndexes) await updateReferrersTag(client, repository, subject.digest, referrers);
  return referrers.map((r) => r.digest);
}

/**
 * Attaches bundles to a component already in the registry (`reference`: its tag or digest), as
 * `berth attest link` does with a step's link after the component was pushed. Returns the
 * component manifest's digest and the referrers made.
 */
export async function attachToComponent(
  client: RegistryClient,
  repository: string,
  reference: string,
  bundles: readonly AttachedBundle[],
): Promise<{ manifestDigest: Digest; componentDigest: Digest; referrers: Digest[] }> {
  const fetched = await client.getManifest(repository, reference, [MEDIA_TYPE.imageManifest]);
  const layer = checkComponentManifest(parseJson(fetched.bytes, imageManifestSchema, `manifest ${repository}:${reference}`), `${repository}:${reference}`);
  const subject: Descriptor = { mediaType: MEDIA_TYPE.imageManifest, digest: fetched.digest, size: fetched.bytes.byteLength };
  return { manifestDigest: fetched.digest, componentDigest: layer.digest, referrers: await attachBundles(client, repository, subject, bundles) };
}

/** Read-modify-write of the fallback tag; concurrent pushers of one digest can race (documented). */
async function updateReferrersTag(client: RegistryClient, repository: string, subject: Digest, added: Descriptor[]): Promise<void> {
  let existing: Descriptor[] = [];
  const found = await client.getReferrers(repository, subject);
  if (found?.via === 'tag') existing = found.index.manifests;
  const known = new Set(existing.map((d) => d.digest));
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.imageIndex,
    manifests: [...existing, ...added.filter((d) => !known.has(d.digest))],
  };
  await client.putManifest(repository, referrersTag(subject), encodeJson(index), MEDIA_TYPE.imageIndex);
}

/** Tag → manifest digest; the one place a tag is trusted, at admission. */
export async function resolveTag(client: RegistryClient, repository: string, tag: string): Promise<Digest> {
  const fetched = await client.getManifest(repository, tag, [MEDIA_TYPE.imageManifest]);
  checkComponentManifest(parseJson(fetched.bytes, imageManifestSchema, `manifest ${repository}:${tag}`), `${repository}:${tag}`);
  return fetched.digest;
}

export function checkComponentManifest(manifest: ImageManifest, what: string): Descriptor {
  if (manifest.config.mediaType !== MEDIA_TYPE.wasmConfig) {
    throw new BerthError(
      'oci.wrong-media-type',
      `${what} is not a wasm component: config media type is '${manifest.config.mediaType}', expected ${MEDIA_TYPE.wasmConfig}`,
    );
  }
  if (manifest.layers.length !== 1 || manifest.layers[0]!.mediaType !== MEDIA_TYPE.wasmLayer) {
    const types = manifest.layers.map((l) => l.mediaType).join(', ') || 'none';
    throw new BerthError('oci.wrong-media-type', `${what} must have exactly one ${MEDIA_TYPE.wasmLayer} layer; it has: ${types}`);
  }
  return manifest.layers[0]!;
}

/** Pull by digest only: manifest, component and attached bundles, every digest checked. */
export async function pullComponent(client: RegistryClient, repository: string, manifestDigest: Digest, onProgress?: Progress): Promise<PulledArtifact> {
  const what = `${repository}@${manifestDigest}`;
  const fetched = await client.getManifest(repository, manifestDigest, [MEDIA_TYPE.imageManifest]);
  const layer = checkComponentManifest(parseJson(fetched.bytes, imageManifestSchema, `manifest ${what}`), what);
  const component = await client.getBlob(repository, layer, undefined, onProgress);
  const bundles = await pullBundles(client, repository, manifestDigest);
  return { manifestDigest, componentDigest: layer.digest, component, bundles };
}

async function pullBundles(client: RegistryClient, repository: string, subject: Digest): Promise<AttachedBundle[]> {
  const referrers = await client.getReferrers(repository, subject);
  if (!referrers) return [];
  const candidates = referrers.index.manifests.filter(
    (d) => d.mediaType === MEDIA_TYPE.imageManifest && (d.artifactType ?? MEDIA_TYPE.sigstoreBundle) === MEDIA_TYPE.sigstoreBundle,
  );
  if (candidates.length > MAX_REFERRERS) {
    throw new BerthError('oci.too-large', `${repository}@${subject} has ${candidates.length} referrers, more than the ${MAX_REFERRERS} Berth reads`);
  }
  const bundles: AttachedBundle[] = [];
  for (const d of candidates) {
    const what = `referrer ${d.digest}`;
    const fetched = await client.getManifest(repository, d.digest, [MEDIA_TYPE.imageManifest]);
    const m = parseJson(fetched.bytes, imageManifestSchema, what);
    // The index is only a hint; the manifest itself must name our subject.
    if (m.subject?.digest !== subject || m.artifactType !== MEDIA_TYPE.sigstoreBundle) continue;
    const layer = m.layers[0];
    if (m.layers.length !== 1 || !layer || layer.mediaType !== MEDIA_TYPE.sigstoreBundle) {
      throw new BerthError('oci.wrong-media-type', `${what} must have exactly one ${MEDIA_TYPE.sigstoreBundle} layer`);
    }
    const kind = m.annotations?.[ANNOTATION.bundleContent];
    if (kind !== 'message-signature' && kind !== 'dsse-envelope') continue;
    const bytes = await client.getBlob(repository, layer, MAX_BUNDLE_BYTES);
    const bundle: AttachedBundle = { kind, bytes };
    const predicateType = m.annotations?.[ANNOTATION.predicateType];
    if (predicateType) bundle.predicateType = predicateType;
    bundles.push(bundle);
  }
  return bundles;
}
