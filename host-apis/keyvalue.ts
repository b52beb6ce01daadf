import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { nodeCrypto } from './node-crypto.js';
import { join } from 'node:path';
import type { GrantSet } from '../wire/grants.js';

export type KeyvalueGrant = NonNullable<GrantSet['keyvalue']>;

/** `berth:host/keyvalue` error variant, as the component model lifts it. */
export type KeyvalueError = { tag: 'quota-exceeded'; val: bigint } | { tag: 'invalid-key'; val: string } | { tag: 'io'; val: string };

const MAX_KEY_BYTES = 512;
const ENTRY_SUFFIX = '.kv';

/** Thrown to the guest as the `err` case of a result (jco lowers `payload`). */
function fail(error: KeyvalueError): never {
  throw { payload: error };
}

/**
 * A key-value store private to one app on one device, kept in its own directory under the
 * app's data directory. One file per key (named by the key's hash, so any key is a safe file
 * name); each write goes to a temporary file and is renamed over, so a crash leaves either the
 * old or the new value. The quota counts key and value bytes of every entry.
 */
export class KeyvalueStore {
  private readonly sizes = new Map<string, number>();
  private used = 0;

  constructor(
    private readonly dir: string,
    private readonly quotaBytes: number,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir)) {
      if (!name.endsWith(ENTRY_SUFFIX)) {
        if (name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
        continue;
      }
      const entry = this.readEntryFile(join(dir, name));
      if (!entry) continue;
      const size = Buffer.byteLength(entry.key) + entry.value.length;
      this.sizes.set(entry.key, size);
      this.used += size;
    }
  }

  get usedBytes(): number {
    return this.used;
  }

  get(key: string): Uint8Array | undefined {
    this.checkKey(key);
    if (!this.sizes.has(key)) return undefined;
    return this.readEntryFile(this.pathOf(key))?.value;
  }

  set(key: string, value: Uint8Array): void {
    this.checkKey(key);
    const size = Buffer.byteLength(key) + value.length;
    const next = this.used - (this.sizes.get(key) ?? 0) + size;
    if (next > this.quotaBytes) fail({ tag: 'quota-exceeded', val: BigInt(this.quotaBytes) });
    const keyBytes = Buffer.from(key);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(keyBytes.length);
    const target = this.pathOf(key);
    // Two instances of one app (an update's overlap, on two threads) may write one key at once.
    const tmp = `${target}.${process.pid}.${nodeCrypto().randomBytes(6).toString('hex')}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, header);
        writeSync(fd, keyBytes);
        writeSync(fd, value);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, target);
    } catch (err) {
      rmSync(tmp, { force: true });
      fail({ tag: 'io', val: `cannot write key: ${(err as NodeJS.ErrnoException).code ?? 'error'}` });
    }
    this.used = next;
    this.sizes.set(key, size);
  }

  delete(key: string): boolean {
    this.checkKey(key);
    const size = this.sizes.get(key);
    if (size === undefined) return false;
    rmSync(this.pathOf(key), { force: true });
    this.sizes.delete(key);
    this.used -= size;
    return true;
  }

  exists(key: string): boolean {
    this.checkKey(key);
    return this.sizes.has(key);
  }

  keys(): string[] {
    return [...this.sizes.keys()].sort();
  }

  private checkKey(key: string): void {
    const len = Buffer.byteLength(key);
    if (len === 0 || len > MAX_KEY_BYTES || key.includes('\0')) {
      fail({ tag: 'invalid-key', val: `keys are 1 to ${MAX_KEY_BYTES} bytes of UTF-8 without NUL` });
    }
  }

  private pathOf(key: string): string {
    return join(this.dir, nodeCrypto().createHash('sha256').update(key).digest('hex') + ENTRY_SUFFIX);
  }

  private readEntryFile(path: string): { key: string; value: Uint8Array } | undefined {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined;
    }
    if (bytes.length < 4) return undefined;
    const keyLen = bytes.readUInt32BE(0);
    if (keyLen > MAX_KEY_BYTES || 4 + keyLen > bytes.length) return undefined;
    return { key: bytes.subarray(4, 4 + keyLen).toString('utf8'), value: new Uint8Array(bytes.subarray(4 + keyLen)) };
  }
}

/** `berth:host/keyvalue`, built over the app's own store. */
export function createKeyvalueHost(store: KeyvalueStore) {
  return {
    get: (key: string) => store.get(key),
    set: (key: string, value: Uint8Array) => store.set(key, value),
    delete: (key: string) => store.delete(key),
    exists: (key: string) => store.exists(key),
    listKeys: () => store.keys(),
  };
}
