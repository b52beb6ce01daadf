import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { digestHex, type Digest } from '../../../common/digest.js';
import { glueAsScript } from './glue-script.js';

/**
 * Transpiled components on disk, one folder per component digest: the glue as `glue.mjs` (and
 * as the script `glue.cjs` when it converts, glue-script.ts), the core modules under the names
 * the glue asks for, and `index.json` listing them. A folder is
 * written under a temporary name and renamed into place, so readers never see half of one and
 * two processes transpiling the same digest at once both end up with a whole folder.
 *
 * The glue is code that runs with the sandbox's authority: the cache directory is created
 * owner-only, and must stay so (docs/engine.md).
 */
export interface TranspiledComponent {
  glueFile: string;
  /** The same glue as a CommonJS script, when it could be made. */
  glueScript?: string;
  coreFiles: Record<string, string>;
}

interface CacheIndex {
  format: 1;
  toolchain: string;
  coreModules: string[];
}

export class TranspileCache {
  constructor(
    private readonly root: string,
    private readonly toolchain: string,
  ) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
  }

  private folder(digest: Digest): string {
    return join(this.root, digestHex(digest));
  }

  read(digest: Digest): TranspiledComponent | undefined {
    const dir = this.folder(digest);
    let index: CacheIndex;
    try {
      index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as CacheIndex;
    } catch {
      return undefined;
    }
    if (index.format !== 1 || index.toolchain !== this.toolchain) return undefined;
    const coreFiles = Object.fromEntries(index.coreModules.map((name) => [name, join(dir, 'core', encodeURIComponent(name))]));
    const glueFile = join(dir, 'glue.mjs');
    if (!existsSync(glueFile) || Object.values(coreFiles).some((f) => !existsSync(f))) return undefined;
    const glueScript = join(dir, 'glue.cjs');
    return { glueFile, coreFiles, ...(existsSync(glueScript) ? { glueScript } : {}) };
  }

  /**
   * Removes every component's folder but those of `keep`, and temporary folders left by a write
   * that died an hour or more ago (a live write renames its own within moments).
   */
  prune(keep: ReadonlySet<Digest>, now = Date.now()): number {
    const kept = new Set([...keep].map(digestHex));
    let removed = 0;
    for (const name of readdirSync(this.root)) {
      const path = join(this.root, name);
      const stale = name.endsWith('.tmp') ? now - statSync(path).mtimeMs > 3_600_000 : !kept.has(name);
      if (!stale) continue;
      rmSync(path, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  write(digest: Digest, glue: Uint8Array, coreModules: Record<string, Uint8Array>): TranspiledComponent {
    const dir = this.folder(digest);
    const tmp = `${dir}.${randomBytes(6).toString('hex')}.tmp`;
    mkdirSync(join(tmp, 'core'), { recursive: true, mode: 0o700 });
    writeFileSync(join(tmp, 'glue.mjs'), glue, { mode: 0o600 });
    const script = glueAsScript(Buffer.from(glue).toString('utf8'));
    if (script !== undefined) writeFileSync(join(tmp, 'glue.cjs'), script, { mode: 0o600 });
    for (const [name, bytes] of Object.entries(coreModules)) writeFileSync(join(tmp, 'core', encodeURIComponent(name)), bytes, { mode: 0o600 });
    const index: CacheIndex = { format: 1, toolchain: this.toolchain, coreModules: Object.keys(coreModules) };
    writeFileSync(join(tmp, 'index.json'), JSON.stringify(index));
    try {
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      // Another process renamed its copy first: theirs is as good as ours.
      const existing = this.read(digest);
      if (existing) return existing;
      throw err;
    }
    return this.read(digest)!;
  }
}
