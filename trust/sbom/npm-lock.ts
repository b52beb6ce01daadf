import type { PackageURL } from 'packageurl-js';
import { errorMessage } from '../../common/errors.js';
import { lockedPurl, lockError, LockedPackages, type LockedGraph, type LockedPackage, type LockedScope } from './locked.js';

/**
 * package-lock.json (and npm-shrinkwrap.json), lockfileVersion 2 or 3: the `packages` map from
 * install path to what is installed there. Entries outside any node_modules/ (the root "",
 * workspace folders) are the app itself and links point at them, so neither is a dependency.
 */

interface NpmEntry {
  name?: unknown;
  version?: unknown;
  dev?: unknown;
  optional?: unknown;
  devOptional?: unknown;
  link?: unknown;
  integrity?: unknown;
  dependencies?: unknown;
  devDependencies?: unknown;
  optionalDependencies?: unknown;
  peerDependencies?: unknown;
}

const NODE_MODULES = 'node_modules/';
/** npm's integrity prefixes (SRI) and their CycloneDX names. */
const SRI_ALGORITHMS = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' } as const;

export function readNpmLock(file: string, text: string): LockedGraph {
  const entries = npmEntries(file, text);
  const purls = new Map<string, PackageURL>();
  for (const [path, entry] of entries) if (isInstalled(path, entry)) purls.set(path, npmPurl(file, path, entry));
  const edges = (path: string, entry: NpmEntry): string[] =>
    dependencyNames(entry).flatMap((name) => purls.get(resolve(entries, path, name) ?? '')?.toString() ?? []);

  const packages = new LockedPackages();
  const direct = new Set<string>();
  for (const [path, entry] of entries) {
    const purl = purls.get(path);
    if (purl) packages.add(lockedNpmPackage(entry, purl, edges(path, entry)));
    else if (!entry.link) for (const d of edges(path, entry)) direct.add(d);
  }
  return { file, direct: [...direct], packages: packages.list() };
}

function npmEntries(file: string, text: string): Map<string, NpmEntry> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw lockError(file, 'JSON', errorMessage(err));
  }
  if (!isObject(doc)) throw lockError(file, 'top level', 'not a JSON object');
  if (doc.lockfileVersion !== 2 && doc.lockfileVersion !== 3) {
    throw lockError(file, 'lockfileVersion', `${JSON.stringify(doc.lockfileVersion)} is not read; npm 7 or later writes version 2 or 3 (run npm install)`);
  }
  if (!isObject(doc.packages) || !isObject(doc.packages[''])) throw lockError(file, 'packages', 'no "packages" map with the root entry ""');
  const entries = new Map<string, NpmEntry>();
  for (const [path, entry] of Object.entries(doc.packages)) {
    if (!isObject(entry)) throw lockError(file, `packages["${path}"]`, 'not an object');
    entries.set(path, entry);
  }
  return entries;
}

function isInstalled(path: string, entry: NpmEntry): boolean {
  return path.includes(NODE_MODULES) && entry.link !== true;
}

/** The name is the path after its last node_modules/ unless the entry names itself (an alias). */
function npmPurl(file: string, path: string, entry: NpmEntry): PackageURL {
  const name = typeof entry.name === 'string' ? entry.name : path.slice(path.lastIndexOf(NODE_MODULES) + NODE_MODULES.length);
  if (typeof entry.version !== 'string' || entry.version === '') throw lockError(file, `packages["${path}"].version`, 'missing');
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  const [scope, bare] = slash === -1 ? [undefined, name] : [name.slice(0, slash), name.slice(slash + 1)];
  return lockedPurl(file, `packages["${path}"]`, 'npm', scope, bare, entry.version);
}

function lockedNpmPackage(entry: NpmEntry, purl: PackageURL, dependsOn: string[]): LockedPackage {
  return { purl, scope: npmScope(entry), hashes: sriHashes(entry.integrity), dependsOn };
}

/** `devOptional` is an optional dependency of a runtime package that dev tooling also needs: installed without dev. */
function npmScope(entry: NpmEntry): LockedScope {
  if (entry.dev === true) return 'dev';
  return entry.optional === true || entry.devOptional === true ? 'optional' : 'required';
}

function sriHashes(integrity: unknown): LockedPackage['hashes'] {
  if (typeof integrity !== 'string') return [];
  return integrity.split(/\s+/).flatMap((sri) => {
    const dash = sri.indexOf('-');
    const algorithm = SRI_ALGORITHMS[sri.slice(0, dash) as keyof typeof SRI_ALGORITHMS];
    return algorithm ? [{ algorithm, hex: Buffer.from(sri.slice(dash + 1), 'base64').toString('hex') }] : [];
  });
}

function dependencyNames(entry: NpmEntry): string[] {
  const maps = [entry.dependencies, entry.devDependencies, entry.optionalDependencies, entry.peerDependencies];
  return maps.flatMap((m) => (isObject(m) ? Object.keys(m) : []));
}

/**
 * Node's lookup: `name` in the requiring package's own node_modules, then in each enclosing
 * one up to the root's. Undefined for what the lock does not install (an optional peer).
 */
function resolve(entries: Map<string, NpmEntry>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? NODE_MODULES + name : `${dir}/${NODE_MODULES}${name}`;
    if (entries.has(candidate)) return candidate;
    if (dir === '') return undefined;
    const up = dir.lastIndexOf('/' + NODE_MODULES);
    dir = up === -1 ? '' : dir.slice(0, up);
  }
}

function isObject(v: unknown): v is Record<string, unknown> & NpmEntry {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
