import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { digestHex, isDigest, sha256Digest, type Digest } from '../../common/digest.js';
import { descriptorSchema, type Descriptor } from '../manifest.js';
import { refuse } from './errors.js';
import { checkManifest } from './manifests.js';
import { checkReference, checkRepository, isTag } from './names.js';

export interface StoredBlob {
  digest: Digest;
  size: number;
  /** Where the bytes are; read it with a stream, never trust it to still hash right. */
  path: string;
}

export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

/** Past this many, a referrers answer is cut off (the Berth client reads at most 1,024). */
const MAX_REFERRERS = 1024;
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * Content-addressed filesystem storage of a registry:
 *
 *   blobs/sha256/<hex>                                blob and manifest bytes, shared by repositories
 *   repositories/<name>/_layers/<hex>                 the repository holds this blob (empty file)
 *   repositories/<name>/_manifests/<hex>              the repository holds this manifest (its media type)
 *   repositories/<name>/_tags/<tag>                   the digest the tag points at
 *   repositories/<name>/_referrers/<subject hex>/<hex> a referrer's descriptor (JSON)
 *   _tmp/                                             writes in progress; renamed into place when complete
 *
 * Every file is written under _tmp and renamed into place, and a blob only after its bytes hash
 * to the digest it is stored under, so a crash or a bad upload never leaves a visible half-write.
 */
export class RegistryStorage {
  private constructor(
    readonly root: string,
    readonly maxManifestBytes: number,
  ) {}

  static async open(root: string, options: { maxManifestBytes?: number } = {}): Promise<RegistryStorage> {
    const abs = resolve(root);
    await mkdir(join(abs, 'blobs', 'sha256'), { recursive: true, mode: 0o700 });
    await mkdir(join(abs, 'repositories'), { recursive: true, mode: 0o700 });
    // Leftovers of a crash mid-write were never visible; drop them.
    await rm(join(abs, '_tmp'), { recursive: true, force: true });
    await mkdir(join(abs, '_tmp'), { mode: 0o700 });
    return new RegistryStorage(abs, options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES);
  }

  /** A fresh path under _tmp, on the same filesystem as the store (so rename is atomic). */
  tempPath(): string {
    return join(this.root, '_tmp', randomUUID());
  }

  async hasRepository(name: string): Promise<boolean> {
    return (await statOf(this.repoDir(name)))?.isDirectory() === true;
  }

  async blob(name: string, digest: Digest): Promise<StoredBlob | undefined> {
    if (!(await statOf(this.entry(name, '_layers', digestHex(digest))))?.isFile()) return undefined;
    const path = this.blobPath(digest);
    const s = await statOf(path);
    return s?.isFile() ? { digest, size: s.size, path } : undefined;
  }

  /** True when the repository holds the blob with the descriptor's size and its bytes still hash to its digest. */
  async holdsIntact(name: string, descriptor: { digest: Digest; size: number }): Promise<boolean> {
    const held = await this.blob(name, descriptor.digest);
    if (!held || held.size !== descriptor.size) return false;
    return (await hashFile(held.path)).digest === descriptor.digest;
  }

  /** Stores bytes already in memory (the mirror's copies), after checking their digest. */
  async putBlob(name: string, bytes: Uint8Array, expected: Digest): Promise<void> {
    const actual = sha256Digest(bytes);
    if (actual !== expected) throw refuse.digestInvalid(`the blob's bytes hash to ${actual}, not to ${expected}`);
    const temp = this.tempPath();
    await writeFile(temp, bytes, { mode: 0o600 });
    await this.publishBlob(name, temp, expected);
  }

  /** Moves a finished upload into the store if it hashes to `expected`; removes it otherwise. */
  async adoptBlob(name: string, tempFile: string, expected: Digest): Promise<number> {
    try {
      const { digest, size } = await hashFile(tempFile);
      if (digest !== expected) throw refuse.digestInvalid(`the uploaded bytes hash to ${digest}, not to the digest ${expected} given`);
      await this.publishBlob(name, tempFile, expected);
      return size;
    } finally {
      await rm(tempFile, { force: true });
    }
  }

  /** Cross-repository mount: links a blob `from` already holds. */
  async mountBlob(name: string, from: string, digest: Digest): Promise<boolean> {
    checkRepository(from);
    if (!(await this.blob(from, digest))) return false;
    await this.link(name, '_layers', digestHex(digest), '');
    return true;
  }

  async manifest(name: string, reference: string): Promise<StoredManifest | undefined> {
    const ref = checkReference(reference);
    let digest: Digest;
    if ('tag' in ref) {
      const pointed = await readText(this.entry(name, '_tags', ref.tag));
      if (pointed === undefined || !isDigest(pointed)) return undefined;
      digest = pointed;
    } else {
      digest = ref.digest;
    }
    const mediaType = await readText(this.entry(name, '_manifests', digestHex(digest)));
    if (mediaType === undefined) return undefined;
    const s = await statOf(this.blobPath(digest));
    // A manifest file grown past the limit behind the server's back is not read into memory.
    if (!s?.isFile() || s.size > this.maxManifestBytes) return undefined;
    return { digest, mediaType, bytes: await readFile(this.blobPath(digest)) };
  }

  /**
   * Stores a manifest under a tag or its digest: checked (checkManifest), every blob and
   * manifest it names already in this repository with the size it claims, then published.
   */
  async putManifest(name: string, reference: string, bytes: Uint8Array, contentType: string | undefined): Promise<{ digest: Digest; subject?: Digest }> {
    checkRepository(name);
    if (bytes.byteLength > this.maxManifestBytes) throw refuse.tooLarge('manifest', this.maxManifestBytes);
    const ref = checkReference(reference);
    const checked = checkManifest(bytes, contentType, 'digest' in ref ? ref.digest : undefined);
    for (const d of checked.blobs) {
      const held = await this.blob(name, d.digest);
      if (!held) throw refuse.manifestBlobUnknown(d.digest);
      if (held.size !== d.size) throw refuse.manifestInvalid(`the manifest says blob ${d.digest} has ${d.size} bytes; it has ${held.size}`);
    }
    for (const d of checked.manifests) {
      const held = await this.manifest(name, d.digest);
      if (!held) throw refuse.manifestBlobUnknown(d.digest);
      if (held.bytes.byteLength !== d.size)
        throw refuse.manifestInvalid(`the index says manifest ${d.digest} has ${d.size} bytes; it has ${held.bytes.byteLength}`);
    }
    const hex = digestHex(checked.digest);
    const temp = this.tempPath();
    await writeFile(temp, bytes, { mode: 0o600 });
    await rename(temp, this.blobPath(checked.digest));
    await this.link(name, '_manifests', hex, checked.mediaType);
    if (checked.referrer) await this.link(name, '_referrers', join(digestHex(checked.referrer.subject), hex), JSON.stringify(checked.referrer.descriptor));
    if ('tag' in ref) await this.link(name, '_tags', ref.tag, checked.digest);
    return checked.referrer ? { digest: checked.digest, subject: checked.referrer.subject } : { digest: checked.digest };
  }

  /** Tags in lexical order, or undefined for an unknown repository. */
  async tags(name: string): Promise<string[] | undefined> {
    if (!(await this.hasRepository(name))) return undefined;
    return (await listDir(this.entry(name, '_tags', '.'))).filter(isTag).sort();
  }

  /** Descriptors of the manifests whose subject is `subject`, optionally of one artifactType. */
  async referrers(name: string, subject: Digest, artifactType?: string): Promise<Descriptor[]> {
    const dir = this.entry(name, '_referrers', digestHex(subject));
    const files = (await listDir(dir)).filter((f) => /^[0-9a-f]{64}$/.test(f)).sort();
    const found: Descriptor[] = [];
    for (const file of files) {
      const parsed = descriptorSchema.safeParse(safeJson(await readText(join(dir, file))));
      if (!parsed.success || parsed.data.digest !== `sha256:${file}`) continue;
      if (artifactType !== undefined && parsed.data.artifactType !== artifactType) continue;
      found.push(parsed.data);
      if (found.length >= MAX_REFERRERS) break;
    }
    return found;
  }

  /**
   * Garbage collection (the control plane's mirror, orchestrator/mirror/gc.ts): removes every
   * link of a repository to a digest `keep` does not list for it (tags pointing elsewhere,
   * referrer entries whose subject or referrer is not kept), then every blob no remaining link
   * names. A file modified after `olderThan` is left alone, and so is a blob a surviving link
   * names, so a write in progress is never pulled out from under its manifest. The caller makes
   * sure no copy into the storage runs meanwhile (the server itself never deletes).
   */
  async sweep(keep: ReadonlyMap<string, ReadonlySet<Digest>>, olderThan: Date): Promise<StorageSweep> {
    const removed: StorageSweep = { links: 0, blobs: 0, bytes: 0 };
    const linked = new Set<string>();
    const old = async (path: string) => {
      const s = await statOf(path);
      return s !== undefined && s.mtimeMs < olderThan.getTime();
    };
    const drop = async (path: string) => {
      await rm(path, { force: true });
      removed.links++;
    };
    for (const name of await this.repositoryNames()) {
      const held = keep.get(name) ?? new Set<Digest>();
      const kept = (hex: string) => held.has(`sha256:${hex}`);
      for (const kind of ['_layers', '_manifests'] as const) {
        for (const hex of await listDir(this.entry(name, kind, '.'))) {
          const path = this.entry(name, kind, hex);
          if (!kept(hex) && (await old(path))) await drop(path);
          else linked.add(hex);
        }
      }
      for (const tag of await listDir(this.entry(name, '_tags', '.'))) {
        const path = this.entry(name, '_tags', tag);
        const pointed = await readText(path);
        if (!(pointed !== undefined && isDigest(pointed) && held.has(pointed)) && (await old(path))) await drop(path);
      }
      for (const subject of await listDir(this.entry(name, '_referrers', '.'))) {
        const dir = this.entry(name, '_referrers', subject);
        for (const hex of await listDir(dir)) {
          if (!(kept(subject) && kept(hex)) && (await old(join(dir, hex)))) await drop(join(dir, hex));
        }
        await rmdirIfEmpty(dir);
      }
      // An emptied repository goes, and the folders of its name with it.
      for (const kind of ['_layers', '_manifests', '_tags', '_referrers']) await rmdirIfEmpty(join(this.repoDir(name), kind));
      let dir = this.repoDir(name);
      while (dir !== join(this.root, 'repositories') && (await rmdirIfEmpty(dir))) dir = dirname(dir);
    }
    const blobs = join(this.root, 'blobs', 'sha256');
    for (const hex of await listDir(blobs)) {
      const path = join(blobs, hex);
      if (linked.has(hex)) continue;
      const s = await statOf(path);
      if (!s || s.mtimeMs >= olderThan.getTime()) continue;
      await rm(path, { force: true });
      removed.blobs++;
      removed.bytes += s.size;
    }
    return removed;
  }

  /** Every repository held (a folder with any of the link folders; names nest, as `a/b` and `a/b/c`). */
  async repositoryNames(): Promise<string[]> {
    const names: string[] = [];
    const walk = async (dir: string, prefix: string[]) => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      if (prefix.length > 0 && entries.some((e) => e.isDirectory() && e.name.startsWith('_'))) names.push(prefix.join('/'));
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith('_')) await walk(join(dir, e.name), [...prefix, e.name]);
    };
    await walk(join(this.root, 'repositories'), []);
    return names.sort();
  }

  private blobPath(digest: Digest): string {
    return join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  private repoDir(name: string): string {
    const dir = join(this.root, 'repositories', ...checkRepository(name).split('/'));
    // The name grammar already rules this out; a second lock on the same door.
    if (!resolve(dir).startsWith(join(this.root, 'repositories') + sep)) throw refuse.nameInvalid('repository name leaves the store');
    return dir;
  }

  private entry(name: string, kind: '_layers' | '_manifests' | '_tags' | '_referrers', file: string): string {
    return join(this.repoDir(name), kind, file);
  }

  private async publishBlob(name: string, temp: string, digest: Digest): Promise<void> {
    // Renaming over an existing copy also repairs one that was altered on disk.
    await rename(temp, this.blobPath(digest));
    await this.link(name, '_layers', digestHex(digest), '');
  }

  private async link(name: string, kind: '_layers' | '_manifests' | '_tags' | '_referrers', file: string, content: string): Promise<void> {
    const path = this.entry(name, kind, file);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temp = this.tempPath();
    await writeFile(temp, content, { mode: 0o600 });
    await rename(temp, path);
  }
}

async function hashFile(path: string): Promise<{ digest: Digest; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    size += (chunk as Buffer).byteLength;
    hash.update(chunk as Buffer);
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** What `sweep` removed: repository links (layer, manifest, tag and referrer entries) and blobs. */
export interface StorageSweep {
  links: number;
  blobs: number;
  bytes: number;
}

async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

/** True when the folder was empty and is gone. */
async function rmdirIfEmpty(dir: string): Promise<boolean> {
  if ((await listDir(dir)).length > 0) return false;
  return rmdir(dir).then(
    () => true,
    () => false,
  );
}

async function statOf(path: string) {
  return stat(path).catch(() => undefined);
}

/** Small bookkeeping files only (tags, media types, descriptors). */
async function readText(path: string): Promise<string | undefined> {
  const s = await statOf(path);
  if (!s?.isFile() || s.size > 64 * 1024) return undefined;
  return (await readFile(path, 'utf8')).trim();
}

function safeJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
