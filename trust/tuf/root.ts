import { createHash } from 'node:crypto';
import { Metadata, MetadataKind, Root, type Key } from '@tufjs/models';
import { BerthError } from '../../common/errors.js';
import { ONLINE_ROLES, type OnlineRole } from '../../wire/tuf.js';

/** The TUF specification version Berth's metadata follows. */
export const TUF_SPEC_VERSION = '1.0.31';

/**
 * A root's fingerprint as devices are configured with it (`tuf.rootSha256`, docs/tuf.md): the
 * sha256 of the exact bytes served, which are the bytes `berth tuf` writes beside the keys.
 */
export const tufRootFingerprint = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/** TUF's date form: UTC, whole seconds, `Z`. */
export const tufTime = (at: Date): string => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface RootPlan {
  version: number;
  expires: Date;
  /** The offline keys, of which `threshold` must sign every root. */
  rootKeys: readonly Key[];
  threshold: number;
  /** The control plane's online key per role (one signature each). */
  online: Readonly<Record<OnlineRole, Key>>;
}

/** An unsigned root: the offline holders sign it (`Metadata.sign`) before it is published. */
export function newRoot(plan: RootPlan): Metadata<Root> {
  const keys: Record<string, unknown> = {};
  for (const k of [...plan.rootKeys, ...ONLINE_ROLES.map((r) => plan.online[r])]) keys[k.keyID] = k.toJSON();
  const roles: Record<string, { keyids: string[]; threshold: number }> = { root: { keyids: plan.rootKeys.map((k) => k.keyID), threshold: plan.threshold } };
  for (const r of ONLINE_ROLES) roles[r] = { keyids: [plan.online[r].keyID], threshold: 1 };
  // Through its JSON form: the models' Role (and so a root's threshold) is not exported otherwise.
  const signed = Root.fromJSON({
    _type: 'root',
    spec_version: TUF_SPEC_VERSION,
    version: plan.version,
    expires: tufTime(plan.expires),
    keys,
    roles,
    consistent_snapshot: true,
  } as never);
  return new Metadata(signed);
}

const refuse = (code: string, message: string): BerthError => new BerthError(`tuf.${code}`, message);

/** Root metadata from JSON, or `tuf.root_malformed` saying what is wrong with it. */
export function parseRoot(json: unknown): Metadata<Root> {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw refuse('root_malformed', 'root metadata must be a JSON object with signed and signatures');
  try {
    return Metadata.fromJSON(MetadataKind.Root, json as never);
  } catch (err) {
    throw refuse('root_malformed', `not TUF root metadata: ${(err as Error).message}`);
  }
}

/**
 * Whether `next` may follow `trusted` (none yet: it must be version 1): the next version, signed
 * by a threshold of the trusted root's keys and of its own, not expired, and shaped as Berth
 * serves it (all four roles, consistent snapshots). The same rules a TUF client applies.
 */
export function checkRootUpdate(trusted: Metadata<Root> | undefined, next: Metadata<Root>, now = new Date()): void {
  const expected = trusted ? trusted.signed.version + 1 : 1;
  if (next.signed.version !== expected)
    throw refuse(
      'root_version',
      `root version ${next.signed.version} cannot follow ${trusted ? `version ${trusted.signed.version}` : 'no root'}: it must be ${expected}`,
    );
  checkShape(next.signed);
  if (trusted) verifyRole(trusted, next, 'the current root');
  verifyRole(next, next, 'its own');
  if (next.signed.isExpired(now)) throw refuse('root_expired', `root version ${next.signed.version} expired at ${next.signed.expires}`);
}

function verifyRole(delegator: Metadata<Root>, next: Metadata<Root>, whose: string): void {
  try {
    delegator.verifyDelegate(MetadataKind.Root, next);
  } catch (err) {
    const role = delegator.signed.roles.root!;
    throw refuse(
      'root_threshold',
      `root version ${next.signed.version} is not signed by ${role.threshold} of ${whose} ${role.keyIDs.length} root keys: ${(err as Error).message}`,
    );
  }
}

function checkShape(root: Root): void {
  if (!root.consistentSnapshot)
    throw refuse('root_shape', 'consistent_snapshot must be true: the control plane serves every version of snapshot and targets by number');
  for (const name of [MetadataKind.Root, ...ONLINE_ROLES]) {
    const role = root.roles[name];
    if (!role) throw refuse('root_shape', `the root names no ${name} role`);
    if (role.threshold < 1 || role.threshold > role.keyIDs.length)
      throw refuse('root_shape', `the ${name} role's threshold ${role.threshold} is not between 1 and its ${role.keyIDs.length} keys`);
    const unknown = role.keyIDs.find((id) => !root.keys[id]);
    if (unknown) throw refuse('root_shape', `the ${name} role names key ${unknown}, which the root does not list`);
  }
  const online = new Set(ONLINE_ROLES.flatMap((r) => root.roles[r]!.keyIDs));
  const shared = root.roles.root!.keyIDs.find((id) => online.has(id));
  // A root key the control plane holds would let a stolen online key sign root: never.
  if (shared) throw refuse('root_shape', `key ${shared} signs both root and an online role; root keys stay offline`);
}
