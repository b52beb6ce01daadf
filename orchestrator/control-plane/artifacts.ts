import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import type { RegistryClientOptions } from '../../oci/client.js';
import { RegistryStorage } from '../../oci/server/storage.js';
import { RegistrySource } from '../../oci/source.js';
import type { FleetSigning } from '../../trust/signing/fleet-signing.js';
import { ArtifactAdmission, type AdmissionObserver } from '../catalog/artifact-admission.js';
import { MirrorCollector } from '../mirror/gc.js';
import { ArtifactMirror } from '../mirror/mirror.js';
import type { Store } from '../store/store.js';

export interface ArtifactOptions {
  dataDir: string;
  registries?: Record<string, RegistryClientOptions>;
  registryDefaults?: RegistryClientOptions;
  admissionTimeoutMs?: number;
  mirrorGcMinAgeMs?: number;
}

export interface ArtifactServices {
  mirror: ArtifactMirror;
  mirrorCollector: MirrorCollector;
  artifacts: ArtifactAdmission;
}

/** Admission of vendors' artifacts from their registries, and the mirror that keeps copies of what was admitted. */
export async function openArtifactServices(
  options: ArtifactOptions,
  store: Store,
  fleetSigning: FleetSigning,
  logger: Logger,
  observer?: AdmissionObserver,
): Promise<ArtifactServices> {
  const registries = options.registries ?? {};
  const registrySource = new RegistrySource((registry) => ({ ...options.registryDefaults, ...registries[registry] }));
  // Copies of admitted artifacts for devices without a route to the registry (docs/mirror.md).
  const mirror = new ArtifactMirror(await RegistryStorage.open(join(options.dataDir, 'mirror')), registrySource, logger);
  const mirrorCollector = new MirrorCollector({
    store,
    storage: mirror.storage,
    lock: mirror.lock,
    logger,
    ...(options.mirrorGcMinAgeMs !== undefined ? { minAgeMs: options.mirrorGcMinAgeMs } : {}),
  });
  const artifacts = new ArtifactAdmission({
    source: registrySource,
    mirror,
    roots: fleetSigning.compiled,
    logger,
    ...(observer ? { observer } : {}),
    ...(options.admissionTimeoutMs !== undefined ? { timeoutMs: options.admissionTimeoutMs } : {}),
  });
  return { mirror, mirrorCollector, artifacts };
}
