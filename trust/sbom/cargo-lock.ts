import type { PackageURL } from 'packageurl-js';
import { lockedPurl, lockError, LockedPackages, type LockedGraph } from './locked.js';

/**
 * Cargo.lock: the `[[package]]` tables Cargo writes, one `key = "string"` per line and the
 * `dependencies` array one string per line. That is all this reads, so no TOML parser: a line of
 * any other shape inside a package is refused rather than guessed at. Packages without a
 * `source` are the app's own crates (the workspace): their dependencies are the direct ones.
 */

interface CargoEntry {
  line: number;
  fields: Map<string, string>;
  dependencies: string[];
}

const STRING = String.raw`"((?:[^"\\]|\\.)*)"`;
const KEY_STRING = new RegExp(String.raw`^([A-Za-z0-9_-]+)\s*=\s*${STRING}$`);
const ARRAY_ITEM = new RegExp(String.raw`^${STRING},?$`);
const INLINE_ARRAY = new RegExp(String.raw`^dependencies\s*=\s*\[(.*)\]$`);

export function readCargoLock(file: string, text: string): LockedGraph {
  const entries = cargoEntries(file, text);
  const purls = new Map<CargoEntry, PackageURL>();
  for (const e of entries) if (e.fields.has('source')) purls.set(e, cargoPurl(file, e));
  const edges = (e: CargoEntry): string[] => e.dependencies.flatMap((spec) => purls.get(resolve(file, entries, e, spec))?.toString() ?? []);

  const packages = new LockedPackages();
  const direct = new Set<string>();
  for (const e of entries) {
    const purl = purls.get(e);
    // Cargo.lock does not tell build and dev dependencies from the rest: all count as required.
    if (purl) packages.add({ purl, scope: 'required', hashes: checksum(e), dependsOn: edges(e) });
    else for (const d of edges(e)) direct.add(d);
  }
  return { file, direct: [...direct], packages: packages.list() };
}

function cargoEntries(file: string, text: string): CargoEntry[] {
  const entries: CargoEntry[] = [];
  let current: CargoEntry | undefined;
  let inArray = false;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const where = `line ${i + 1}`;
    if (line === '' || line.startsWith('#')) return;
    if (inArray) {
      if (line === ']') inArray = false;
      else current!.dependencies.push(unquote(file, where, ARRAY_ITEM.exec(line)?.[1], line));
    } else if (line === '[[package]]') {
      entries.push((current = { line: i + 1, fields: new Map(), dependencies: [] }));
    } else if (line.startsWith('[')) {
      current = undefined; // [metadata] (old lock files' checksums) and tables this does not read
    } else if (current) {
      inArray = readPackageLine(file, where, line, current);
    }
  });
  if (inArray) throw lockError(file, `line ${current!.line}`, 'the [[package]] starting here ends inside its dependencies array');
  for (const e of entries) for (const key of ['name', 'version']) if (!e.fields.get(key)) throw lockError(file, `line ${e.line}`, `[[package]] has no ${key}`);
  return entries;
}

/** One line of a [[package]] table; true when it opens a multi-line dependencies array. */
function readPackageLine(file: string, where: string, line: string, entry: CargoEntry): boolean {
  if (/^dependencies\s*=\s*\[$/.test(line)) return true;
  const inline = INLINE_ARRAY.exec(line);
  if (inline) {
    const items = inline[1]!
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    entry.dependencies.push(...items.map((item) => unquote(file, where, new RegExp(`^${STRING}$`).exec(item)?.[1], item)));
    return false;
  }
  const pair = KEY_STRING.exec(line);
  if (!pair) throw lockError(file, where, `expected key = "value" in a [[package]], found ${JSON.stringify(line.slice(0, 80))}`);
  entry.fields.set(pair[1]!, unquote(file, where, pair[2], line));
  return false;
}

function unquote(file: string, where: string, inner: string | undefined, line: string): string {
  if (inner === undefined) throw lockError(file, where, `expected a quoted string, found ${JSON.stringify(line.slice(0, 80))}`);
  try {
    return JSON.parse(`"${inner}"`) as string; // TOML's basic-string escapes are JSON's
  } catch {
    throw lockError(file, where, `bad escape in ${JSON.stringify(line.slice(0, 80))}`);
  }
}

function cargoPurl(file: string, e: CargoEntry): PackageURL {
  return lockedPurl(file, `line ${e.line}`, 'cargo', undefined, e.fields.get('name')!, e.fields.get('version')!);
}

function checksum(e: CargoEntry): { algorithm: 'SHA-256'; hex: string }[] {
  const sum = e.fields.get('checksum');
  return sum && /^[0-9a-f]{64}$/.test(sum) ? [{ algorithm: 'SHA-256', hex: sum }] : [];
}

/** A dependency is written `name`, `name version` or `name version (source)`, as specific as needed to be unique. */
function resolve(file: string, entries: CargoEntry[], from: CargoEntry, spec: string): CargoEntry {
  const [name, version] = spec.split(' ');
  const found = entries.filter((e) => e.fields.get('name') === name && (version === undefined || e.fields.get('version') === version));
  if (found.length !== 1) throw lockError(file, `line ${from.line}`, `dependency "${spec}" matches ${found.length} packages`);
  return found[0]!;
}
