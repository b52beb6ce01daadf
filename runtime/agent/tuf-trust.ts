import { join } from 'node:path';
import type { JWK } from 'jose';
import { BerthError } from '../../common/errors.js';
import { securityEvent, type Logger } from '../../common/logger.js';
import { readTextFile } from '../../trust/key-files.js';
import { pinRoot, TufTrustClient } from '../../trust/tuf/client.js';
import { HttpsTufFetcher } from '../../trust/tuf/https-fetcher.js';
import { FLEET_TARGETS, TUF_METADATA_PATH } from '../../wire/tuf.js';
import { identityDir, jwksSchema, readSigningRoots, savePinnedKeys, saveSigningRoots, type PinnedSigningRoots } from './onboarding.js';
import { acceptBundle } from './trust-bundle.js';
import type { TrustSource } from './trust-source.js';

/** The trust documents a device reads from the repository. */
const DEVICE_TARGETS = [FLEET_TARGETS.desiredStateKeys, FLEET_TARGETS.signingRoots, FLEET_TARGETS.trustBundle];
/** Root metadata is a few KiB; this bounds what the first fetch reads. */
const ROOT_MAX_BYTES = 512 * 1024;

export interface TufTrustOptions {
  /** The control plane's URL. */
  url: string;
  dataDir: string;
  /** sha256 of the repository's root version 1, as the device was configured (docs/tuf.md). */
  rootSha256: string;
  /** The TLS material of the moment: fleet roots for transport, the device's certificate. */
  tls: () => { ca: string | string[]; cert: string; key: string };
  logger: Logger;
}

export const tufDir = (dataDir: string): string => join(dataDir, 'tuf');

/**
 * Pins root version 1 by its configured fingerprint, once: every later root the device trusts is
 * one its predecessor's keys signed (TUF's root chain), whatever the channel offers.
 */
export async function ensureTufRoot(o: TufTrustOptions): Promise<void> {
  const dir = tufDir(o.dataDir);
  if ((await readTextFile(join(dir, 'root.json'))) !== undefined) return;
  const fetcher = new HttpsTufFetcher(o.tls());
  const root = await fetcher.downloadBytes(`${o.url}${TUF_METADATA_PATH}/1.root.json`, ROOT_MAX_BYTES).catch((err: unknown) => {
    throw new BerthError(
      'tuf.unreachable',
      `cannot read the TUF root from the control plane (has the operator run berth tuf init?): ${(err as Error).message}`,
    );
  });
  await pinRoot(dir, root, o.rootSha256).catch((err: unknown) => {
    if (err instanceof BerthError) securityEvent(o.logger, 'agent.tuf_root_refused', { code: err.code, reason: err.message });
    throw err;
  });
  o.logger.info({ sha256: o.rootSha256 }, 'TUF root pinned');
}

/**
 * Trust from the fleet's TUF repository: every key and root the device takes is a target the
 * signed targets list (docs/tuf.md). A refused update is a security event and keeps what the
 * device trusted before.
 */
export function tufTrustSource(o: TufTrustOptions): TrustSource {
  const round = async (): Promise<{ keys: JWK[]; text: string; bundle: unknown }> => {
    const client = new TufTrustClient({ dir: tufDir(o.dataDir), url: o.url, fetcher: new HttpsTufFetcher(o.tls()) });
    try {
      const docs = await client.update(DEVICE_TARGETS);
      const keys = jwksSchema.parse(JSON.parse(docs.get(FLEET_TARGETS.desiredStateKeys)!.toString('utf8'))).keys as JWK[];
      return { keys, text: docs.get(FLEET_TARGETS.signingRoots)!.toString('utf8'), bundle: JSON.parse(docs.get(FLEET_TARGETS.trustBundle)!.toString('utf8')) };
    } catch (err) {
      if (err instanceof BerthError && err.code !== 'tuf.unreachable') securityEvent(o.logger, 'agent.tuf_refused', { code: err.code, reason: err.message });
      throw err;
    }
  };
  const keys = async (): Promise<JWK[]> => {
    const { keys } = await round();
    await savePinnedKeys(o.dataDir, keys);
    o.logger.info({ kids: keys.map((k) => k.kid), source: 'tuf' }, 'desired-state keys pinned');
    return keys;
  };
  const roots = async (signedDigest?: string): Promise<PinnedSigningRoots> => {
    const { roots, pinned } = readSigningRoots((await round()).text, 'the fleet signing roots the TUF targets list');
    // The desired state's claim must agree with the repository: either alone could be stale.
    if (signedDigest !== undefined && pinned.digest !== signedDigest) {
      securityEvent(o.logger, 'agent.signing_roots_mismatch', { signed: signedDigest, received: pinned.digest, source: 'tuf' });
      throw new BerthError(
        'agent.signing_roots_mismatch',
        `the fleet signing roots in the TUF targets have digest ${pinned.digest}, not the ${signedDigest} the desired state vouches for; keeping the pinned roots`,
      );
    }
    await saveSigningRoots(o.dataDir, roots);
    o.logger.info({ digest: pinned.digest, source: 'tuf' }, 'fleet signing roots pinned');
    return pinned;
  };
  const bundle = async (): Promise<void> => {
    const stored = await acceptBundle((await round()).bundle, identityDir(o.dataDir), o.logger);
    o.logger.info({ sequence: stored.spiffe_sequence, source: 'tuf' }, 'trust bundle refreshed');
  };
  /** New keys the targets list (the pinned ones are never dropped here: a statement signed before may still arrive). */
  const refresh = async (pinned: readonly JWK[]): Promise<JWK[] | undefined> => {
    const { keys: listed } = await round();
    const added = listed.filter((k) => !pinned.some((p) => p.kid === k.kid));
    if (added.length === 0) return undefined;
    const next = [...pinned, ...added];
    await savePinnedKeys(o.dataDir, next);
    o.logger.info({ added: added.map((k) => k.kid), source: 'tuf' }, 'desired-state keys added from the TUF targets');
    return next;
  };
  return {
    kind: 'tuf',
    refresh,
    pinKeys: keys,
    followKeyRotation: keys,
    pinSigningRoots: () => roots(),
    followSigningRoots: (signed) => roots(signed),
    refreshBundle: bundle,
  };
}
