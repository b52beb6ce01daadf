import { createHash } from 'node:crypto';
import { Metadata, MetadataKind, MetaFile, Snapshot, TargetFile, Targets, Timestamp, type Root } from '@tufjs/models';
import { TUF_SPEC_VERSION, tufTime } from '../../trust/tuf/root.js';
import type { TufSigningKey } from '../../trust/tuf/keys.js';
import { ONLINE_EXPIRY_SECONDS, type OnlineRole } from '../../wire/tuf.js';
import type { Queryable } from '../store/store.js';
import { insertMetadata, latestMetadata, putTargetFile, type StoredMetadata } from '../store/tuf.js';

/**
 * The online half of the repository (docs/tuf.md, "What keeps it current"): targets, snapshot
 * and timestamp, each signed anew by its online key when what it covers changed, when the root
 * names another key for it, or when half its life has passed. Called under the publish lock.
 */

/** A trust document the repository lists as a target: its path and exact text. */
export interface TargetDocument {
  path: string;
  body: string;
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
/**
 * Metadata as the bytes served and kept. Not through jsonParam like other JSON in the store:
 * signatures cover these bytes, so nothing may rewrite them; JSON.stringify escapes NUL and lone
 * surrogates, so the text is safe in a text column as it is.
 */
export const serialise = (m: Metadata<Root | Targets | Snapshot | Timestamp>): string => JSON.stringify(m.toJSON());

/** Targets, snapshot and timestamp, each signed anew when it (or a role below it) must be. */
export async function publishOnline(
  tx: Queryable,
  keys: Record<OnlineRole, TufSigningKey>,
  documents: readonly TargetDocument[],
  now: Date,
  force: boolean,
): Promise<OnlineRole[]> {
  const published: OnlineRole[] = [];
  const wanted: Record<string, TargetFile> = {};
  for (const d of documents) wanted[d.path] = new TargetFile({ path: d.path, length: Buffer.byteLength(d.body), hashes: { sha256: sha256(d.body) } });

  const targets = await current(tx, MetadataKind.Targets, keys.targets, now, force);
  let targetsVersion = targets.stored?.version ?? 0;
  if (!targets.fresh || !sameTargets(targets.parsed as Metadata<Targets>, wanted)) {
    for (const d of documents) await putTargetFile(tx, sha256(d.body), d.path, d.body);
    const signed = new Targets({ version: ++targetsVersion, specVersion: TUF_SPEC_VERSION, expires: expiry(now, 'targets'), targets: wanted });
    await sign(tx, signed, keys.targets);
    published.push('targets');
  }
  const snapshot = await current(tx, MetadataKind.Snapshot, keys.snapshot, now, force);
  let snapshotVersion = snapshot.stored?.version ?? 0;
  let snapshotBody = snapshot.stored?.body;
  if (published.length || !snapshot.fresh) {
    const meta = { 'targets.json': new MetaFile({ version: targetsVersion }) };
    snapshotBody = await sign(
      tx,
      new Snapshot({ version: ++snapshotVersion, specVersion: TUF_SPEC_VERSION, expires: expiry(now, 'snapshot'), meta }),
      keys.snapshot,
    );
    published.push('snapshot');
  }
  const timestamp = await current(tx, MetadataKind.Timestamp, keys.timestamp, now, force);
  if (published.length || !timestamp.fresh) {
    const snapshotMeta = new MetaFile({ version: snapshotVersion, length: Buffer.byteLength(snapshotBody!), hashes: { sha256: sha256(snapshotBody!) } });
    const version = (timestamp.stored?.version ?? 0) + 1;
    await sign(tx, new Timestamp({ version, specVersion: TUF_SPEC_VERSION, expires: expiry(now, 'timestamp'), snapshotMeta }), keys.timestamp);
    published.push('timestamp');
  }
  return published;
}

interface Current {
  stored: StoredMetadata | undefined;
  parsed: Metadata<Targets | Snapshot | Timestamp> | undefined;
  /** Signed by the key the root names now, and less than half-way through its life. */
  fresh: boolean;
}

async function current(tx: Queryable, role: OnlineRole, key: TufSigningKey, now: Date, force: boolean): Promise<Current> {
  const stored = await latestMetadata(tx, role);
  if (!stored) return { stored, parsed: undefined, fresh: false };
  const parsed = Metadata.fromJSON(role as never, JSON.parse(stored.body)) as unknown as Metadata<Targets | Snapshot | Timestamp>;
  const halfLife = (ONLINE_EXPIRY_SECONDS[role] * 1000) / 2;
  const fresh = !force && key.key.keyID in parsed.signatures && Date.parse(parsed.signed.expires) - now.getTime() > halfLife;
  return { stored, parsed, fresh };
}

function sameTargets(parsed: Metadata<Targets>, wanted: Record<string, TargetFile>): boolean {
  const have = parsed.signed.targets;
  const paths = Object.keys(wanted);
  return paths.length === Object.keys(have).length && paths.every((p) => have[p]?.hashes.sha256 === wanted[p]!.hashes.sha256);
}

const expiry = (now: Date, role: OnlineRole): string => tufTime(new Date(now.getTime() + ONLINE_EXPIRY_SECONDS[role] * 1000));

async function sign(tx: Queryable, signed: Targets | Snapshot | Timestamp, key: TufSigningKey): Promise<string> {
  const metadata = new Metadata(signed);
  metadata.sign(key.sign);
  const body = serialise(metadata);
  await insertMetadata(tx, { role: signed.type, version: signed.version, body });
  return body;
}
