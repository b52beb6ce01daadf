import { lstat, open, readdir, rm, rmdir } from 'node:fs/promises';
import { constants, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from '../trust/key-files.js';
import { NAME } from './app-spec.js';

/**
 * Kept at the root of an app's folder, beside (not inside) `keyvalue/` and `files/`: the app sees
 * only those two (docs/wasi.md, docs/runtime.md), so it can neither read nor forge its countdown.
 */
export const UNPLANNED_MARKER = '.unplanned-since';

/**
 * Devices without a battery-backed clock boot in 1970 until NTP answers; a mark written then would
 * look decades old once the clock is set and end the grace period at once. Below this, the clock
 * is taken as unset and nothing unplanned is marked or removed.
 */
export const CLOCK_FLOOR_MS = Date.UTC(2020, 0, 1);

export interface AppRef {
  vendor: string;
  app: string;
}

export interface RemovedAppData extends AppRef {
  /** Bytes of the regular files that were in the folder. */
  bytes: number;
  unplannedSince: string;
}

/** An entry under `apps/` that is not an app folder this module may touch. */
export interface LeftAlone {
  /** Relative to `apps/`: `vendor` or `vendor/app`. */
  entry: string;
  reason: 'bad-name' | 'symlink' | 'not-a-directory';
}

export interface AppDataPruneResult {
  /** Seen unplanned for the first time: the countdown starts now. */
  marked: AppRef[];
  /** Unplanned, still within the grace period. */
  waiting: (AppRef & { unplannedSince: string })[];
  /** Planned (or running) again: the mark is gone and the data stays. */
  replanned: AppRef[];
  removed: RemovedAppData[];
  /** Vendor folders removed because no app folder was left in them. */
  vendorsRemoved: string[];
  leftAlone: LeftAlone[];
  failed: { entry: string; error: string }[];
  /** The clock was below CLOCK_FLOOR_MS: no unplanned app was marked or removed. */
  clockUnset: boolean;
}

export interface PruneAppDataOptions {
  /** `vendor/app` of every app an adopted plan names. */
  planned: ReadonlySet<string>;
  /** `vendor/app` of every app the runtime supervises: never touched, whatever the plans say. */
  supervised: ReadonlySet<string>;
  graceMs: number;
  now: number;
}

type EntryKind = 'directory' | 'symlink' | 'other';

async function kindOf(path: string): Promise<EntryKind> {
  const s = await lstat(path);
  return s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'directory' : 'other';
}

/** Sum of regular file sizes at or below one entry of a folder, links not followed (lstat only). */
async function bytesOf(path: string, entry: Dirent): Promise<number> {
  if (entry.isFile()) return (await lstat(path)).size;
  if (!entry.isDirectory()) return 0;
  let total = 0;
  for (const e of await readdir(path, { withFileTypes: true })) total += await bytesOf(join(path, e.name), e);
  return total;
}

/** The time in the marker, or undefined when there is none or it is unreadable (then it is written anew). */
async function readMarker(appDir: string): Promise<number | undefined> {
  let handle;
  try {
    // O_NOFOLLOW: a link put there by anyone else is never read through.
    handle = await open(join(appDir, UNPLANNED_MARKER), constants.O_RDONLY | constants.O_NOFOLLOW);
    const text = await handle.readFile({ encoding: 'utf8' });
    const since = Date.parse((JSON.parse(text) as { unplannedSince?: unknown }).unplannedSince as string);
    return Number.isFinite(since) ? since : undefined;
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/** Written to a temporary name and renamed over, so a crash leaves the old mark or the new one, and rename replaces a link rather than following it. */
function writeMarker(appDir: string, since: number): Promise<void> {
  return writePrivateFile(join(appDir, UNPLANNED_MARKER), JSON.stringify({ unplannedSince: new Date(since).toISOString() }) + '\n');
}

/**
 * Everything but the marker first, the marker last: a removal cut short (a crash, a busy file)
 * keeps its countdown and is finished at the next clean-up instead of waiting a whole grace again.
 * `rm` unlinks links below the folder; it never follows them. Returns the bytes of the app's
 * regular files (the mark not counted).
 */
async function removeAppDir(appDir: string): Promise<number> {
  let bytes = 0;
  for (const e of await readdir(appDir, { withFileTypes: true })) {
    if (e.name === UNPLANNED_MARKER) continue;
    const path = join(appDir, e.name);
    bytes += await bytesOf(path, e);
    await rm(path, { recursive: true, force: true });
  }
  await rm(join(appDir, UNPLANNED_MARKER), { force: true });
  await rmdir(appDir);
  return bytes;
}

/**
 * Only real folders with app-rule names under `apps/` are ever looked into: an entry the runtime
 * could not have made (a link, a file, a name `prepareApp` refuses) is reported and left as it is.
 */
async function appFolders(parent: string, prefix: string, result: AppDataPruneResult): Promise<string[]> {
  const names: string[] = [];
  for (const name of (await readdir(parent)).sort()) {
    const entry = prefix ? `${prefix}/${name}` : name;
    if (!NAME.test(name)) {
      result.leftAlone.push({ entry, reason: 'bad-name' });
      continue;
    }
    const kind = await kindOf(join(parent, name));
    if (kind === 'directory') names.push(name);
    else result.leftAlone.push({ entry, reason: kind === 'symlink' ? 'symlink' : 'not-a-directory' });
  }
  return names;
}

async function pruneOne(appDir: string, ref: AppRef, o: PruneAppDataOptions, result: AppDataPruneResult): Promise<void> {
  const key = `${ref.vendor}/${ref.app}`;
  if (o.planned.has(key) || o.supervised.has(key)) {
    try {
      await lstat(join(appDir, UNPLANNED_MARKER));
    } catch {
      return;
    }
    await rm(join(appDir, UNPLANNED_MARKER), { force: true });
    result.replanned.push(ref);
    return;
  }
  if (result.clockUnset) return;
  const marked = await readMarker(appDir);
  // No mark, an unreadable one, or one from the future (the clock was set back): the countdown
  // starts now. Erring this way only ever keeps data longer.
  const since = marked === undefined || marked > o.now ? o.now : marked;
  const fresh = since !== marked;
  if (fresh) {
    await writeMarker(appDir, since);
    result.marked.push(ref);
  }
  if (o.now - since < o.graceMs) {
    if (!fresh) result.waiting.push({ ...ref, unplannedSince: new Date(since).toISOString() });
    return;
  }
  const bytes = await removeAppDir(appDir);
  result.removed.push({ ...ref, bytes, unplannedSince: new Date(since).toISOString() });
}

/**
 * Gives back the disk of apps no adopted plan names any more, after a grace period
 * (docs/agent.md, "Removed apps' data"): the first clean-up that finds an app unplanned marks its
 * folder, a later one past `graceMs` deletes it, and one that finds it planned again removes the
 * mark so a re-deploy finds its data as it left it. A failure on one folder is reported and does
 * not stop the others.
 */
export async function pruneAppData(dataRoot: string, o: PruneAppDataOptions): Promise<AppDataPruneResult> {
  const result: AppDataPruneResult = {
    marked: [],
    waiting: [],
    replanned: [],
    removed: [],
    vendorsRemoved: [],
    leftAlone: [],
    failed: [],
    clockUnset: o.now < CLOCK_FLOOR_MS,
  };
  const appsRoot = join(dataRoot, 'apps');
  let vendors: string[];
  try {
    vendors = await appFolders(appsRoot, '', result);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw err;
  }
  for (const vendor of vendors) {
    const vendorDir = join(appsRoot, vendor);
    let apps: string[];
    try {
      apps = await appFolders(vendorDir, vendor, result);
    } catch (err) {
      result.failed.push({ entry: vendor, error: (err as Error).message });
      continue;
    }
    for (const app of apps) {
      try {
        await pruneOne(join(vendorDir, app), { vendor, app }, o, result);
      } catch (err) {
        result.failed.push({ entry: `${vendor}/${app}`, error: (err as Error).message });
      }
    }
    try {
      if ((await readdir(vendorDir)).length === 0) {
        await rmdir(vendorDir);
        result.vendorsRemoved.push(vendor);
      }
    } catch (err) {
      // ENOTEMPTY/ENOENT: something was made there meanwhile, or it is gone already.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'ENOENT') result.failed.push({ entry: vendor, error: (err as Error).message });
    }
  }
  return result;
}
