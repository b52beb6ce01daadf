import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { z } from 'zod';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';
import { createDesiredStateSigner, type DesiredStateSigner } from '../../trust/desired-state/sign.js';
import { endorseKey } from '../../trust/desired-state/key-endorsement.js';

export const SIGNING_KEY_FILE = 'desired-state-signing-key.pem';
/** The keys used before the current one and each one's endorsement of its successor. */
export const KEY_HISTORY_FILE = 'desired-state-key-history.json';
/** Keys (and endorsements) kept for devices that have not yet followed a rotation. */
const HISTORY_LENGTH = 8;

const historySchema = z.strictObject({ previous: z.array(z.looseObject({ kid: z.string() })).max(64), endorsements: z.array(z.string()).max(64) });

/** The signing key now, and what lets a device that pinned an earlier one follow to it. */
export interface DesiredStateKeys {
  signer: DesiredStateSigner;
  /** Public keys used before, oldest first. */
  previous: JWK[];
  /** Each earlier key's signature over the key after it (trust/desired-state/key-endorsement.ts). */
  endorsements: string[];
}

async function readHistory(keyDir: string): Promise<{ previous: JWK[]; endorsements: string[] }> {
  const text = await readTextFile(join(keyDir, KEY_HISTORY_FILE));
  if (text === undefined) return { previous: [], endorsements: [] };
  const parsed = historySchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${join(keyDir, KEY_HISTORY_FILE)} is not a desired-state key history; restore it from the replica it came from`);
  return { previous: parsed.data.previous as JWK[], endorsements: parsed.data.endorsements };
}

async function signerFrom(pem: string): Promise<{ signer: DesiredStateSigner; privateKey: KeyObject }> {
  const privateKey = createPrivateKey(pem);
  return { signer: await createDesiredStateSigner(privateKey, createPublicKey(privateKey)), privateKey };
}

const newKeyPem = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

/**
 * The desired-state signing key: ECDSA P-256, its own file beside (not inside) the TLS keys, made
 * on first start, with the history of the keys before it. Replicas share both files the way they
 * share the issuing key (a mounted secret).
 */
export async function loadOrCreateKeys(keyDir: string): Promise<DesiredStateKeys> {
  const existing = await loadKeys(keyDir);
  if (existing) return existing;
  await writePrivateFile(join(keyDir, SIGNING_KEY_FILE), newKeyPem());
  return (await loadKeys(keyDir))!;
}

/**
 * The keys as they are on disk, or undefined when there is no signing key: what a replica
 * checking for a rotation made elsewhere reads (it must never make a key of its own, which no
 * device could follow to).
 */
export async function loadKeys(keyDir: string): Promise<DesiredStateKeys | undefined> {
  const pem = await readTextFile(join(keyDir, SIGNING_KEY_FILE));
  if (pem === undefined) return undefined;
  const { signer } = await signerFrom(pem);
  const history = await readHistory(keyDir);
  return { signer, previous: history.previous.filter((k) => k.kid !== signer.keyId), endorsements: history.endorsements };
}

/** What operators call to rotate: the new key's id and the ids of the keys before it. */
export interface DesiredStateKeyRotation {
  rotate(): Promise<{ keyId: string; previous: string[] }>;
}

export async function loadOrCreateSigner(keyDir: string): Promise<DesiredStateSigner> {
  return (await loadOrCreateKeys(keyDir)).signer;
}

/**
 * A new signing key, endorsed by the current one. The history (with the endorsement) is written
 * before the new key, so a crash in between leaves the old key in use and an endorsement of a key
 * nobody uses, never a key devices cannot follow to.
 */
export async function rotateSigningKey(keyDir: string, now = Date.now()): Promise<DesiredStateKeys> {
  const current = await readTextFile(join(keyDir, SIGNING_KEY_FILE));
  if (current === undefined) throw new Error('no desired-state signing key to rotate');
  const { signer: old, privateKey } = await signerFrom(current);
  const nextPem = newKeyPem();
  const { signer: next } = await signerFrom(nextPem);
  const history = await readHistory(keyDir);
  const previous = [...history.previous.filter((k) => k.kid !== old.keyId), old.publicJwk].slice(-HISTORY_LENGTH);
  const endorsements = [...history.endorsements, await endorseKey(privateKey, old.keyId, next.publicJwk, now)].slice(-HISTORY_LENGTH);
  await writePrivateFile(join(keyDir, KEY_HISTORY_FILE), JSON.stringify({ previous, endorsements }, null, 2) + '\n');
  await writePrivateFile(join(keyDir, SIGNING_KEY_FILE), nextPem);
  return { signer: next, previous, endorsements };
}
