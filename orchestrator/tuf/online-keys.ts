import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';
import { newTufSigningKey, tufSigningKeyFromPem, type TufSigningKey } from '../../trust/tuf/keys.js';
import { ONLINE_ROLES, type OnlineRole } from '../../wire/tuf.js';

/** A TUF key id (hex SHA-256): the only names made into file paths here. */
const KEY_ID = /^[0-9a-f]{64}$/;

/**
 * The control plane's online TUF keys (targets, snapshot, timestamp), one file per key named by
 * its key id in `<data dir>/pki/tuf/`, shared by replicas as the other keys there are. Which key
 * serves which role is the root's to say, never a file's: a rotation is a new set made here,
 * named by a root the offline keys sign (docs/tuf.md).
 */
export class OnlineKeys {
  constructor(private readonly dir: string) {}

  /** A fresh key per online role, saved, for the operator's next root to name. */
  async newSet(): Promise<Record<OnlineRole, TufSigningKey>> {
    const set = {} as Record<OnlineRole, TufSigningKey>;
    for (const role of ONLINE_ROLES) {
      const key = newTufSigningKey();
      await writePrivateFile(this.file(key.key.keyID), key.privatePem());
      set[role] = key;
    }
    return set;
  }

  /** The key with this id, if this replica holds it. */
  async byId(keyID: string): Promise<TufSigningKey | undefined> {
    if (!KEY_ID.test(keyID)) return undefined;
    const pem = await readTextFile(this.file(keyID));
    return pem === undefined ? undefined : tufSigningKeyFromPem(pem, this.file(keyID));
  }

  /** Removes keys a root no longer names (the ones it replaced, perhaps stolen). */
  async forget(keyIDs: Iterable<string>): Promise<void> {
    for (const id of keyIDs) if (KEY_ID.test(id)) await rm(this.file(id), { force: true });
  }

  private file(keyID: string): string {
    return join(this.dir, `${keyID}.pem`);
  }
}
