import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Key, type Metadata, type Root } from '@tufjs/models';
import { BerthError } from '../../common/errors.js';
import { writePrivateFile } from '../../trust/key-files.js';
import { newTufSigningKey, tufSigningKeyFromPem, type TufSigningKey } from '../../trust/tuf/keys.js';
import { newRoot, parseRoot, tufRootFingerprint } from '../../trust/tuf/root.js';
import { DEFAULT_ROOT_EXPIRY_DAYS, ONLINE_ROLES, TUF_METADATA_PATH, type OnlineRole } from '../../wire/tuf.js';
import type { OnlineKeySet, RootAccepted, TufStatus } from '../../wire/tuf-admin.js';
import type { ApiCall } from '../api-subcommand.js';
import { UsageError } from '../usage.js';

/**
 * The operator's side of the fleet's TUF root (docs/tuf.md): root keys made and kept in a folder
 * the operator takes offline, and each root signed there and published. The control plane never
 * sees a root key.
 */

const ROOT_KEY_FILE = /^root-key-(\d+)\.pem$/;

export interface InitOptions {
  keys: number;
  threshold: number;
  out: string;
  expiresDays?: number;
}

/** `berth tuf init`: root keys in `out`, root version 1 naming fresh online keys, published. */
export async function initRepository(api: ApiCall, o: InitOptions): Promise<{ version: number; keyids: string[]; rootFile: string; rootSha256: string }> {
  checkCounts(o.keys, o.threshold);
  if ((await rootKeysIn(o.out)).length > 0) throw new BerthError('tuf.keys_exist', `${o.out} already holds root keys; a repository is initialised once`);
  const rootKeys = await newRootKeys(o.out, o.keys);
  const root = newRoot({
    version: 1,
    expires: daysFromNow(o.expiresDays),
    rootKeys: rootKeys.map((k) => k.key),
    threshold: o.threshold,
    online: await freshOnlineKeys(api),
  });
  for (const k of rootKeys) root.sign(k.sign);
  return { ...(await publish(api, root, o.out)), keyids: rootKeys.map((k) => k.key.keyID) };
}

function checkCounts(keys: number, threshold: number): void {
  if (!(Number.isInteger(keys) && keys >= 1 && keys <= 16)) throw new UsageError(`--keys must be 1 to 16, not ${keys}`);
  if (!(Number.isInteger(threshold) && threshold >= 1 && threshold <= keys))
    throw new UsageError(`--threshold must be 1 to the number of keys (${keys}), not ${threshold}`);
}

/** `count` new root keys, written to `dir` as root-key-<i>.pem (0600). */
async function newRootKeys(dir: string, count: number): Promise<TufSigningKey[]> {
  const keys = Array.from({ length: count }, () => newTufSigningKey());
  for (const [i, k] of keys.entries()) await writePrivateFile(join(dir, `root-key-${i + 1}.pem`), k.privatePem());
  return keys;
}

/**
 * `berth tuf rotate-online-keys`: the next root, naming fresh online keys (after a theft, or on
 * schedule), signed by the root keys in `keyDir` (a threshold of them) and published. Metadata
 * signed by the keys it replaces is refused by devices once they read it.
 */
export async function rotateOnlineKeys(api: ApiCall, keyDir: string, expiresDays?: number): Promise<{ version: number; rootFile: string }> {
  const current = await currentRoot(api);
  const signers = await thresholdHeld(current, keyDir);
  const rootRole = current.signed.roles.root!;
  return publishNext(
    api,
    current,
    { rootKeys: rootRole.keyIDs.map((id) => current.signed.keys[id]!), threshold: rootRole.threshold, signers },
    keyDir,
    expiresDays,
  );
}

/**
 * `berth tuf rotate-root-keys`: new root keys (a holder left, a key was lost or exposed) made in
 * `newDir`, named by the next root, which a threshold of the old keys (in `keyDir`) and all the
 * new ones sign, as a TUF client requires of a root that replaces its keys. Online keys are
 * renewed with it.
 */
export async function rotateRootKeys(
  api: ApiCall,
  keyDir: string,
  o: { keys: number; threshold: number; out: string; expiresDays?: number },
): Promise<{ version: number; rootFile: string; keyids: string[] }> {
  checkCounts(o.keys, o.threshold);
  if ((await rootKeysIn(o.out)).length > 0) throw new BerthError('tuf.keys_exist', `${o.out} already holds root keys; name an empty folder for the new ones`);
  const current = await currentRoot(api);
  const old = await thresholdHeld(current, keyDir);
  const fresh = await newRootKeys(o.out, o.keys);
  const done = await publishNext(
    api,
    current,
    { rootKeys: fresh.map((k) => k.key), threshold: o.threshold, signers: [...old, ...fresh] },
    o.out,
    o.expiresDays,
  );
  return { ...done, keyids: fresh.map((k) => k.key.keyID) };
}

/** The root keys in `keyDir` that the current root names, at least its threshold of them. */
async function thresholdHeld(current: Metadata<Root>, keyDir: string): Promise<TufSigningKey[]> {
  const rootRole = current.signed.roles.root!;
  const signers = (await rootKeysIn(keyDir)).filter((k) => rootRole.keyIDs.includes(k.key.keyID));
  if (signers.length < rootRole.threshold)
    throw new BerthError(
      'tuf.threshold_not_held',
      `${keyDir} holds ${signers.length} of the root's keys; the root needs ${rootRole.threshold} to sign its successor`,
    );
  return signers;
}

/** The next root after `current`, naming fresh online keys, signed by `signers`, published. */
async function publishNext(
  api: ApiCall,
  current: Metadata<Root>,
  o: { rootKeys: Key[]; threshold: number; signers: TufSigningKey[] },
  dir: string,
  expiresDays?: number,
): Promise<{ version: number; rootFile: string }> {
  const next = newRoot({
    version: current.signed.version + 1,
    expires: daysFromNow(expiresDays),
    rootKeys: o.rootKeys,
    threshold: o.threshold,
    online: await freshOnlineKeys(api),
  });
  for (const k of o.signers) next.sign(k.sign);
  return publish(api, next, dir);
}

async function currentRoot(api: ApiCall): Promise<Metadata<Root>> {
  const status: TufStatus = await api('GET', '/api/v1/admin/tuf');
  if (!status.root) throw new BerthError('tuf.no_root', 'the control plane has no TUF root yet: run berth tuf init');
  return parseRoot(await api('GET', `${TUF_METADATA_PATH}/${status.root.version}.root.json`));
}

async function freshOnlineKeys(api: ApiCall): Promise<Record<OnlineRole, Key>> {
  const set: OnlineKeySet = await api('POST', '/api/v1/admin/tuf/online-keys', {});
  const keys = {} as Record<OnlineRole, Key>;
  for (const role of ONLINE_ROLES) keys[role] = Key.fromJSON(set.keys[role].keyid, set.keys[role].key as never);
  return keys;
}

/** Written beside the keys first (the operator keeps every root), then published. */
async function publish(api: ApiCall, root: Metadata<Root>, dir: string): Promise<{ version: number; rootFile: string; rootSha256: string }> {
  const rootFile = join(dir, `${root.signed.version}.root.json`);
  // The bytes the control plane serves, so `sha256sum 1.root.json` is the devices' tuf.rootSha256.
  const bytes = JSON.stringify(root.toJSON());
  await writePrivateFile(rootFile, bytes);
  const accepted: RootAccepted = await api('PUT', '/api/v1/admin/tuf/root', root.toJSON());
  return { version: accepted.version, rootFile, rootSha256: tufRootFingerprint(bytes) };
}

async function rootKeysIn(dir: string): Promise<TufSigningKey[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => ROOT_KEY_FILE.test(n)).sort();
  return Promise.all(names.map(async (n) => tufSigningKeyFromPem(await readFile(join(dir, n), 'utf8'), join(dir, n))));
}

const daysFromNow = (days = DEFAULT_ROOT_EXPIRY_DAYS): Date => new Date(Date.now() + days * 86_400_000);
