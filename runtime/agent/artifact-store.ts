import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, sha256Digest, type Digest } from '../../common/digest.js';
import { securityEvent, type Logger } from '../../common/logger.js';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';

/** What the agent recorded when it verified an artifact. */
export interface ArtifactRecord {
  /** The OCI manifest digest the signed desired state names. */
  manifestDigest: Digest;
  /** SHA-256 of the component bytes (what `blobs/` is keyed by). */
  componentDigest: Digest;
  vendor: string;
  /** Who signed it, as the verifier described the signer. */
  signer: unknown;
  /** Fingerprint of the trust policy it was verified against. */
  policyFingerprint: string;
  verifiedAt: string;
}

/**
 * Verified components, content-addressed under `<data>/artifacts/`: `blobs/<sha256 hex>` holds
 * the bytes, `verified/<manifest digest hex>.json` the record of their verification. Only bytes
 * that passed pull-by-digest and signature verification are written, and every read checks the
 * bytes against their digest again, so a blob changed on disk is refused, never run.
 */
export class ArtifactStore {
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly logger: Logger,
  ) {
    this.dir = join(dataDir, 'artifacts');
  }

  /** The verified component for a manifest digest and policy, or undefined (absent, other policy, or corrupted). */
  async get(manifestDigest: Digest, policyFingerprint: string): Promise<{ record: ArtifactRecord; component: Buffer } | undefined> {
    const text = await readTextFile(join(this.dir, 'verified', `${digestHex(manifestDigest)}.json`));
    if (!text) return undefined;
    let record: ArtifactRecord;
    try {
      record = JSON.parse(text) as ArtifactRecord;
    } catch {
      return undefined;
    }
    if (record.manifestDigest !== manifestDigest || record.policyFingerprint !== policyFingerprint) return undefined;
    let component: Buffer;
    try {
      component = await readFile(join(this.dir, 'blobs', digestHex(record.componentDigest)));
    } catch {
      return undefined;
    }
    if (sha256Digest(component) !== record.componentDigest) {
      securityEvent(this.logger, 'agent.artifact_corrupted', { manifestDigest, componentDigest: record.componentDigest });
      return undefined;
    }
    return { record, component };
  }

  /**
   * Removes what is not needed: every verified artifact but those of `keep` (manifest digests)
   * and the `retainUnused` others verified most recently (so a rollback to the version before
   * needs no download), then every blob no remaining record names. An unreadable record counts
   * as unused. Returns the component digests still stored.
   */
  async prune(keep: ReadonlySet<Digest>, retainUnused: number): Promise<{ removed: number; bytesFreed: number; components: Set<Digest> }> {
    const verifiedDir = join(this.dir, 'verified');
    const blobsDir = join(this.dir, 'blobs');
    const records: { file: string; record: ArtifactRecord | undefined }[] = [];
    for (const file of await readdir(verifiedDir).catch(() => [] as string[])) {
      const text = await readTextFile(join(verifiedDir, file));
      let record: ArtifactRecord | undefined;
      try {
        record = text ? (JSON.parse(text) as ArtifactRecord) : undefined;
      } catch {
        record = undefined;
      }
      records.push({ file, record });
    }
    const unused = records
      .filter((r) => !r.record || !keep.has(r.record.manifestDigest))
      .sort((a, b) => String(b.record?.verifiedAt ?? '').localeCompare(String(a.record?.verifiedAt ?? '')));
    const retained = new Set(unused.filter((r) => r.record).slice(0, retainUnused));
    const components = new Set<Digest>();
    let removed = 0;
    for (const r of records) {
      if (r.record && (keep.has(r.record.manifestDigest) || retained.has(r))) components.add(r.record.componentDigest);
      else {
        await rm(join(verifiedDir, r.file), { force: true });
        removed++;
      }
    }
    let bytesFreed = 0;
    const named = new Set([...components].map(digestHex));
    for (const file of await readdir(blobsDir).catch(() => [] as string[])) {
      if (named.has(file)) continue;
      const path = join(blobsDir, file);
      bytesFreed += (await stat(path).catch(() => ({ size: 0 }))).size;
      await rm(path, { force: true });
    }
    return { removed, bytesFreed, components };
  }

  async put(record: ArtifactRecord, component: Buffer): Promise<void> {
    await mkdir(join(this.dir, 'blobs'), { recursive: true, mode: 0o700 });
    const blob = join(this.dir, 'blobs', digestHex(record.componentDigest));
    const temp = `${blob}.${process.pid}.tmp`;
    await writeFile(temp, component, { mode: 0o600 });
    await rename(temp, blob);
    await writePrivateFile(join(this.dir, 'verified', `${digestHex(record.manifestDigest)}.json`), JSON.stringify(record, null, 2) + '\n');
  }
}
