import { lockedPurl, lockError, LockedPackages, type LockedGraph } from './locked.js';

/**
 * go.sum: `module version hash` per line. A `version/go.mod` line only means Go read that
 * version's go.mod while selecting versions; the module's code is in the build only where a line
 * without `/go.mod` exists, so only those become packages. go.sum does not say which modules the
 * app requires directly, so the graph is flat.
 */

const LINE = /^(\S+) (v\S+) (h\d+:\S+)$/;
const GO_MOD_SUFFIX = '/go.mod';

export function readGoSum(file: string, text: string): LockedGraph {
  const packages = new LockedPackages();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const m = LINE.exec(line);
    if (!m) throw lockError(file, `line ${i + 1}`, `expected "module version h1:hash", found ${JSON.stringify(line.slice(0, 80))}`);
    const [, module, version] = m as unknown as [string, string, string];
    if (version.endsWith(GO_MOD_SUFFIX)) return;
    const slash = module.lastIndexOf('/');
    const [namespace, name] = slash === -1 ? [undefined, module] : [module.slice(0, slash), module.slice(slash + 1)];
    // The h1: hash is of the module's file tree (dirhash), not of any one artifact: no CycloneDX hash fits it.
    packages.add({ purl: lockedPurl(file, `line ${i + 1}`, 'golang', namespace, name, version), scope: 'required', hashes: [], dependsOn: [] });
  });
  return { file, direct: undefined, packages: packages.list() };
}
