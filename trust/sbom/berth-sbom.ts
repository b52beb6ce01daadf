import { join } from 'node:path';
import { PackageURL } from 'packageurl-js';
import { berthPackageJson, projectRoot } from '../../common/paths.js';
import { addLockedPackages, bomJson, loadCycloneDx, newBom, type CycloneDxJson } from './bom.js';
import { readLockFile } from './lock-files.js';

/**
 * Berth's own SBOM (`npm run sbom`, `berth sbom --self`): Berth as the subject and every package
 * its package-lock.json locks, read by the same code as an app's lock file. Development
 * packages are listed with scope `excluded`: a device installs with `--omit=dev` and gets only
 * the `required` and `optional` ones.
 */
export async function berthSbom(): Promise<CycloneDxJson> {
  const pkg = berthPackageJson();
  const purl = new PackageURL('npm', undefined, pkg.name, pkg.version, undefined, undefined).toString();
  const lock = await readLockFile(join(projectRoot(), 'package-lock.json'));
  const cdx = await loadCycloneDx();
  const subject = new cdx.Models.Component(cdx.Enums.ComponentType.Application, pkg.name, { bomRef: purl, version: pkg.version, purl });
  subject.licenses.add(new cdx.Models.SpdxLicense(pkg.license));
  const bom = newBom(cdx, subject, [cdx.Enums.LifecyclePhase.PreBuild]);
  addLockedPackages(cdx, bom, subject, lock);
  return bomJson(cdx, bom);
}
