import type * as CycloneDx from '@cyclonedx/cyclonedx-library';
import { CYCLONEDX, importOptional } from '../../common/optional-package.js';
import { berthPackageJson } from '../../common/paths.js';
import type { LockedGraph, LockedPackage, LockedScope } from './locked.js';

/**
 * The CycloneDX side of every SBOM Berth writes: the document's frame (spec 1.6, Berth as the
 * tool that made it), locked packages as components with their dependency graph, and the JSON.
 */

export type CycloneDxLibrary = typeof CycloneDx;
type Component = CycloneDx.Models.Component;
type Bom = CycloneDx.Models.Bom;

/** The CycloneDX JSON document, as the library's serializer produces it. */
export type CycloneDxJson = CycloneDx.Serialize.JSON.Types.Normalized.Bom;

/** Property names Berth writes; CycloneDX leaves names outside its own `cdx:` taxonomy to their writers. */
export const SBOM_PROPERTY = {
  witImport: 'berth:wit:import',
  witExport: 'berth:wit:export',
  producersPrefix: 'berth:wasm:producers:',
  lockFile: 'berth:lock-file',
} as const;

/**
 * The library is loaded only when an SBOM is made: it is a devDependency, so that a device
 * install (`npm ci --omit=dev`) stays without it and the JSON schema validator it pulls in.
 */
export function loadCycloneDx(): Promise<CycloneDxLibrary> {
  return importOptional<CycloneDxLibrary>(CYCLONEDX);
}

function scope(cdx: CycloneDxLibrary, locked: LockedScope): CycloneDx.Enums.ComponentScope {
  // `dev` is installed where the app is built, never where it runs (a device install omits dev).
  const { Required, Optional, Excluded } = cdx.Enums.ComponentScope;
  return { required: Required, optional: Optional, dev: Excluded }[locked];
}

/**
 * A BOM about `subject`, made by Berth. No timestamp and no random serial number: the same
 * inputs give the same bytes, so an SBOM can be compared, cached and referred to by digest.
 */
export function newBom(cdx: CycloneDxLibrary, subject: Component, lifecycles: CycloneDx.Enums.LifecyclePhase[]): Bom {
  const bom = new cdx.Models.Bom();
  bom.metadata.component = subject;
  bom.metadata.tools.components.add(new cdx.Models.Component(cdx.Enums.ComponentType.Application, 'berth', { version: berthPackageJson().version }));
  for (const phase of lifecycles) bom.metadata.lifecycles.add(phase);
  return bom;
}

/** The packages as components, `subject` depending on the direct ones (on all when the lock file does not say). */
export function addLockedPackages(cdx: CycloneDxLibrary, bom: Bom, subject: Component, graph: LockedGraph): void {
  const byPurl = new Map<string, Component>();
  for (const pkg of graph.packages) {
    const component = lockedComponent(cdx, pkg);
    byPurl.set(pkg.purl.toString(), component);
    bom.components.add(component);
  }
  for (const pkg of graph.packages) {
    const component = byPurl.get(pkg.purl.toString())!;
    for (const d of pkg.dependsOn) component.dependencies.add(byPurl.get(d)!.bomRef);
  }
  for (const d of graph.direct ?? byPurl.keys()) subject.dependencies.add(byPurl.get(d)!.bomRef);
  bom.metadata.properties.add(new cdx.Models.Property(SBOM_PROPERTY.lockFile, graph.file));
}

function lockedComponent(cdx: CycloneDxLibrary, pkg: LockedPackage): Component {
  const component = new cdx.Models.Component(cdx.Enums.ComponentType.Library, pkg.purl.name, {
    bomRef: pkg.purl.toString(),
    group: pkg.purl.namespace ?? undefined,
    version: pkg.purl.version ?? undefined,
    purl: pkg.purl.toString(),
    scope: scope(cdx, pkg.scope),
  });
  for (const h of pkg.hashes) component.hashes.set(cdx.Enums.HashAlgorithm[h.algorithm], h.hex);
  // The CycloneDX property taxonomy's name for an npm devDependency, as cyclonedx-npm writes it.
  if (pkg.scope === 'dev' && pkg.purl.type === 'npm') component.properties.add(new cdx.Models.Property('cdx:npm:package:development', 'true'));
  return component;
}

/** The JSON document, lists sorted so that equal BOMs serialize equally. */
export function bomJson(cdx: CycloneDxLibrary, bom: Bom): CycloneDxJson {
  const serializer = new cdx.Serialize.JsonSerializer(new cdx.Serialize.JSON.Normalize.Factory(cdx.Spec.Spec1dot6));
  return JSON.parse(serializer.serialize(bom, { sortLists: true })) as CycloneDxJson;
}
