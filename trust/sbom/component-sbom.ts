import type { Models } from '@cyclonedx/cyclonedx-library';
import { ociPurl } from '../../wire/purl.js';
import { digestHex } from '../../common/digest.js';
import { BerthError, errorMessage } from '../../common/errors.js';
import { inspectComponent } from '../../runtime/component/inspect.js';
import { PRODUCER_FIELDS, readProducers, type Producers } from '../../runtime/component/producers.js';
import { addLockedPackages, bomJson, loadCycloneDx, newBom, SBOM_PROPERTY, type CycloneDxJson, type CycloneDxLibrary } from './bom.js';
import type { LockedGraph } from './locked.js';

/**
 * A component's SBOM (docs/sbom.md): the component itself as the BOM's subject, what its
 * producers sections say, its WIT imports and exports, and what its lock file says it was built
 * from. A plain function of the bytes and options, for `berth sbom` and for whatever attaches or
 * checks SBOMs later.
 */

export interface ComponentSbomOptions {
  /** The app's name; lowercased in the purl, as the purl spec has it for the oci type. */
  name: string;
  /** Left out of the SBOM when not given: the purl's digest already names the exact bytes. */
  version?: string;
  /** The OCI repository the component is published in, e.g. `registry.example/acme/sensor`: the purl's `repository_url`. */
  repository?: string;
  /** The app's lock file as `readLockFile` or `parseLockFile` read it. */
  lock?: LockedGraph;
}

/** Async only to load the CycloneDX library, which a device install leaves out; the bytes are checked first. */
export async function componentSbom(bytes: Uint8Array, options: ComponentSbomOptions): Promise<CycloneDxJson> {
  const info = inspectComponent(bytes);
  const producers = readProducers(bytes);
  const hex = digestHex(info.digest);
  const purl = componentPurl(options.name, hex, options.repository);
  const cdx = await loadCycloneDx();
  const subject = new cdx.Models.Component(cdx.Enums.ComponentType.Application, options.name, { bomRef: purl, version: options.version, purl });
  subject.hashes.set(cdx.Enums.HashAlgorithm['SHA-256'], hex);
  for (const name of info.imports) subject.properties.add(new cdx.Models.Property(SBOM_PROPERTY.witImport, name));
  for (const name of info.exports) subject.properties.add(new cdx.Models.Property(SBOM_PROPERTY.witExport, name));
  addProducers(cdx, subject, producers);

  // Post-build: read from the built component; pre-build: from the lock file it was built from.
  const { PostBuild, PreBuild } = cdx.Enums.LifecyclePhase;
  const bom = newBom(cdx, subject, options.lock ? [PostBuild, PreBuild] : [PostBuild]);
  if (options.lock) addLockedPackages(cdx, bom, subject, options.lock);
  return bomJson(cdx, bom);
}

/** `pkg:oci/<name>@sha256:<hex>`, with `?repository_url=` when the repository is known. */
function componentPurl(name: string, hex: string, repository: string | undefined): string {
  try {
    return ociPurl(name, `sha256:${hex}`, repository ? { repository } : {});
  } catch (err) {
    throw new BerthError('sbom.bad-option', `no package URL for the component named ${JSON.stringify(name)}: ${errorMessage(err)}`);
  }
}

/** One property per producer, `name@version` (or just the name when the producer gave no version). */
function addProducers(cdx: CycloneDxLibrary, subject: Models.Component, producers: Producers): void {
  for (const field of PRODUCER_FIELDS) {
    for (const p of producers[field]) {
      subject.properties.add(new cdx.Models.Property(SBOM_PROPERTY.producersPrefix + field, p.version ? `${p.name}@${p.version}` : p.name));
    }
  }
}
