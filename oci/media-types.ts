/** Media types of the Berth artifact layout (see docs/oci-layout.md). */
export const MEDIA_TYPE = {
  imageManifest: 'application/vnd.oci.image.manifest.v1+json',
  imageIndex: 'application/vnd.oci.image.index.v1+json',
  emptyJson: 'application/vnd.oci.empty.v1+json',
  /** CNCF wasm OCI artifact convention. */
  wasmConfig: 'application/vnd.wasm.config.v0+json',
  wasmLayer: 'application/wasm',
  sigstoreBundle: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  /** A CycloneDX JSON SBOM (docs/sbom.md): the artifact type of an SBOM referrer. */
  cyclonedxJson: 'application/vnd.cyclonedx+json',
} as const;

/** Annotations that say what a referrer carries, so a puller need not fetch every one. */
export const ANNOTATION = {
  bundleContent: 'dev.sigstore.bundle.content',
  predicateType: 'dev.sigstore.bundle.predicateType',
  created: 'org.opencontainers.image.created',
} as const;

/** The bytes `{}` that OCI 1.1 uses as the config of artifacts without one. */
export const EMPTY_JSON = new TextEncoder().encode('{}');
