import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { berthPackageJson } from '../../common/paths.js';
import type { LockedGraph, LockedPackage, LockedScope } from './locked.js';

/**
 * The CycloneDX side of every SBOM Berth writes: the document's frame (spec 1.6, Berth as the
 * tool that made it), locked packages as components with their dependency graph, and the JSON.
 */

/** The CycloneDX JSON document, as the library's serializer produces it. */
export type CycloneDxJson = Serialize.JSON.Types.Normalized.Bom;

export const CYCLONEDX_SPEC = Spec.Spec1dot6;

const SCOPES: Record<LockedScope, Enums.ComponentScope> = {
  required: Enums.ComponentScope.Required,
  optional: Enums.ComponentScope.Optional,
  // Installed where the app is built, never where it runs (a device install omits dev).
  dev: Enums.ComponentScope.Excluded,
};

/**
 * A BOM about `subject`, made by Berth. No timestamp and no random serial number: the same
 * inputs give the same bytes, so an SBOM can be compared, cached and referred to by digest.
 */
export function newBom(subject: Models.Component, lifecycles: Enums.LifecyclePhase[]): Models.Bom {
  const bom = new Models.Bom();
  bom.metadata.component = subject;
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'berth', { version: berthPackageJson().version }));
  for (const phase of lifecycles) bom.metadata.lifecycles.add(phase);
  return bom;
}

/** The packages as components, `subject` depending on the direct ones (on all when the lock file does not say). */
export function addLockedPackages(bom: Models.Bom, subject: Models.Component, graph: LockedGraph): void {
  const byPurl = new Map<string, Models.Component>();
  for (const pkg of graph.packages) {
    const component = lockedComponent(pkg);
    byPurl.set(pkg.purl.toString(), component);
    bom.components.add(component);
  }
  for (const pkg of graph.packages) {
    const component = byPurl.get(pkg.purl.toString())!;
    for (const d of pkg.dependsOn) component.dependencies.add(byPurl.get(d)!.bomRef);
  }
  for (const d of graph.direct ?? byPurl.keys()) subject.dependencies.add(byPurl.get(d)!.bomRef);
  bom.metadata.properties.add(new Models.Property('berth:lock-file', graph.file));
}

function lockedComponent(pkg: LockedPackage): Models.Component {
  const component = new Models.Component(Enums.ComponentType.Library, pkg.purl.name, {
    bomRef: pkg.purl.toString(),
    group: pkg.purl.namespace ?? undefined,
    version: pkg.purl.version ?? undefined,
    purl: pkg.purl.toString(),
    scope: SCOPES[pkg.scope],
  });
  for (const h of pkg.hashes) component.hashes.set(Enums.HashAlgorithm[h.algorithm], h.hex);
  // The CycloneDX property taxonomy's name for an npm devDependency, as cyclonedx-npm writes it.
  if (pkg.scope === 'dev' && pkg.purl.type === 'npm') component.properties.add(new Models.Property('cdx:npm:package:development', 'true'));
  return component;
}

/** The JSON document, lists sorted so that equal BOMs serialize equally. */
export function bomJson(bom: Models.Bom): CycloneDxJson {
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(CYCLONEDX_SPEC));
  return JSON.parse(serializer.serialize(bom, { sortLists: true })) as CycloneDxJson;
}
