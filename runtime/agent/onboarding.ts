import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { z } from 'zod';
import { BerthError, errorMessage } from '../../common/errors.js';
import { securityEvent, type Logger } from '../../common/logger.js';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';
import { acceptEndorsedKeys } from '../../trust/desired-state/key-endorsement.js';
import { compileRoots, signingRootsDigest, type CompiledRoots, type FleetSigningRoots } from '../../trust/signing/roots.js';
import type { AgentConfig } from './config.js';
import { answerError, type ControlPlaneClient } from './control-plane-client.js';
import { enroll, type EnrollmentCredential } from './enroll.js';
import type { DeviceIdentity } from './identity-files.js';
import { readMachineId, recordBinding } from './node-lock.js';
import { truncateText } from '../../common/text.js';

/** Where the device keeps its identity inside the data directory. */
export const identityDir = (dataDir: string): string => join(dataDir, 'identity');
const pinnedKeysPath = (dataDir: string): string => join(identityDir(dataDir), 'desired-state-keys.json');
const pinnedRootsPath = (dataDir: string): string => join(identityDir(dataDir), 'signing-roots.json');

async function readFileNamed(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new BerthError('agent.bad_config', `cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

export async function credentialFrom(config: AgentConfig): Promise<EnrollmentCredential> {
  const c = config.onboarding?.credential;
  if (!c) throw new BerthError('agent.not_onboarded', 'this device has no identity and the configuration has no onboarding credential');
  if (c.kind === 'token') return { kind: 'token', token: c.token };
  if (c.kind === 'token-file') return { kind: 'token', token: (await readFileNamed(c.file, 'the enrollment token file')).trim() };
  const pem = await readFileNamed(c.certificates, 'the factory certificate chain');
  const certificatesPem = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certificatesPem.length === 0) throw new BerthError('agent.bad_config', `${c.certificates} holds no PEM certificate`);
  return {
    kind: 'factory-certificate',
    certificatesPem,
    keyPem: await readFileNamed(c.key, 'the factory key'),
    ...(c.macAddresses ? { macAddresses: c.macAddresses } : {}),
  };
}

/** Onboards (token or factory certificate) and binds the new identity to this machine. */
export async function onboard(config: AgentConfig, fleetCa: string, logger: Logger): Promise<DeviceIdentity> {
  const credential = await credentialFrom(config);
  // Before enrolling: an identity without its binding could never be started again.
  await readMachineId(config.nodeLock.machineIdFile);
  const identity = await enroll({
    url: config.controlPlane.url,
    ca: fleetCa,
    credential,
    dir: identityDir(config.dataDir),
    ...(config.onboarding?.deviceId ? { deviceId: config.onboarding.deviceId } : {}),
    maxWaitMs: (config.onboarding?.maxWaitSeconds ?? 86_400) * 1000,
    logger,
  });
  await recordBinding(config.dataDir, config.nodeLock.machineIdFile, identity);
  logger.info({ deviceId: identity.deviceId, notAfter: identity.notAfter.toISOString(), method: credential.kind }, 'device onboarded');
  return identity;
}

export const jwksSchema = z.object({
  keys: z
    .array(z.looseObject({ kty: z.literal('EC'), crv: z.literal('P-256'), kid: z.string().min(1), x: z.string(), y: z.string() }))
    .min(1)
    .max(16),
});

/** The pinned desired-state keys, or undefined before they were pinned. */
export async function pinnedKeys(dataDir: string): Promise<JWK[] | undefined> {
  const text = await readTextFile(pinnedKeysPath(dataDir));
  if (!text) return undefined;
  const parsed = jwksSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new BerthError('agent.bad_pinned_keys', `${pinnedKeysPath(dataDir)} is not a JWKS of P-256 keys; re-onboard or restore it`);
  return parsed.data.keys as JWK[];
}

/** `GET /api/v1/desired-state/keys` over mTLS, read with `schema`; `what` says what it failed to be. */
async function fetchKeySet<T>(client: ControlPlaneClient, schema: z.ZodType<T>, what: string): Promise<T> {
  const answer = await client.request('/api/v1/desired-state/keys', { headers: { accept: 'application/json' }, maxBytes: 64 * 1024 });
  if (answer.status !== 200) throw answerError(answer, 'GET /api/v1/desired-state/keys');
  try {
    return schema.parse(JSON.parse(answer.bytes.toString('utf8')));
  } catch (err) {
    throw new BerthError('agent.bad_keys', `the desired-state key set ${what}: ${truncateText((err as Error).message, 300)}`);
  }
}

export const savePinnedKeys = (dataDir: string, keys: readonly JWK[]): Promise<void> =>
  writePrivateFile(pinnedKeysPath(dataDir), JSON.stringify({ keys }, null, 2) + '\n');

/**
 * Pins the control plane's desired-state keys on the first contact after onboarding. The list
 * is trusted this once: later keys are pinned only through `followKeyRotation`, never because
 * the channel offers them.
 */
export async function pinKeys(client: ControlPlaneClient, dataDir: string, logger: Logger): Promise<JWK[]> {
  const { keys } = await fetchKeySet(client, jwksSchema, 'is not a JWKS of P-256 keys');
  await savePinnedKeys(dataDir, keys as JWK[]);
  logger.info({ kids: keys.map((k) => k.kid) }, 'desired-state keys pinned');
  return keys as JWK[];
}

const keysAnswerSchema = z.object({ endorsements: z.array(z.string().max(4096)).max(32).default([]) });

/**
 * Follows a rotation of the control plane's desired-state key: asks for the key set again and
 * pins only keys that an already pinned key endorsed (trust/desired-state/key-endorsement.ts);
 * the key list itself is not trusted, so the channel still cannot slip in a key of its own.
 * Returns the keys pinned now (the same list when nothing new was endorsed).
 */
export async function followKeyRotation(client: ControlPlaneClient, dataDir: string, pinned: readonly JWK[], logger: Logger): Promise<JWK[]> {
  const { endorsements } = await fetchKeySet(client, keysAnswerSchema, 'carries no readable endorsements');
  const accepted = await acceptEndorsedKeys(pinned, endorsements);
  const added = accepted.filter((k) => !pinned.some((p) => p.kid === k.kid));
  if (added.length === 0) return [...pinned];
  await savePinnedKeys(dataDir, accepted);
  logger.info({ added: added.map((k) => k.kid), pinned: accepted.map((k) => k.kid) }, 'desired-state key rotation followed: new key endorsed by a pinned one');
  return accepted;
}

const signingRootsSchema = z.strictObject({
  signingCas: z.array(z.string().max(16_384)).max(8),
  timestampAuthorities: z.array(z.array(z.string().max(16_384)).min(1).max(4)).max(8),
});

/** Pinned fleet signing roots: compiled for verification, and their digest (`signingRootsDigest`). */
export interface PinnedSigningRoots {
  compiled: CompiledRoots;
  /** What a desired-state statement's `signingRootsDigest` claim is compared with. */
  digest: string;
}

export function readSigningRoots(text: string, where: string): { roots: FleetSigningRoots; pinned: PinnedSigningRoots } {
  try {
    const roots = signingRootsSchema.parse(JSON.parse(text));
    return { roots, pinned: { compiled: compileRoots(roots), digest: signingRootsDigest(roots) } };
  } catch (err) {
    throw new BerthError(
      'agent.bad_signing_roots',
      `${where} are not the fleet signing roots (signing CAs and timestamp authority chains, PEM): ${truncateText(errorMessage(err), 300)}`,
    );
  }
}

/** The fleet signing roots pinned (at onboarding or by following a rotation), or undefined before. */
export async function pinnedSigningRoots(dataDir: string): Promise<PinnedSigningRoots | undefined> {
  const text = await readTextFile(pinnedRootsPath(dataDir));
  return text === undefined ? undefined : readSigningRoots(text, pinnedRootsPath(dataDir)).pinned;
}

async function fetchSigningRoots(client: ControlPlaneClient): Promise<{ roots: FleetSigningRoots; pinned: PinnedSigningRoots }> {
  const answer = await client.request('/api/v1/signing/roots', { headers: { accept: 'application/json' }, maxBytes: 256 * 1024 });
  if (answer.status !== 200) throw answerError(answer, 'GET /api/v1/signing/roots');
  return readSigningRoots(answer.bytes.toString('utf8'), "the control plane's /api/v1/signing/roots");
}

export const saveSigningRoots = (dataDir: string, roots: FleetSigningRoots): Promise<void> =>
  writePrivateFile(
    pinnedRootsPath(dataDir),
    JSON.stringify({ signingCas: roots.signingCas, timestampAuthorities: roots.timestampAuthorities }, null, 2) + '\n',
  );

/**
 * Pins the fleet signing roots (`GET /api/v1/signing/roots`: the fleet signing CA and timestamp
 * authority that certificate-signed components chain to) beside the desired-state keys, on the
 * same first contact and with the same rule: never replaced because the channel offers others,
 * only through `followSigningRoots` when a verified statement vouches for them.
 */
export async function pinSigningRoots(client: ControlPlaneClient, dataDir: string, logger: Logger): Promise<PinnedSigningRoots> {
  const { roots, pinned } = await fetchSigningRoots(client);
  await saveSigningRoots(dataDir, roots);
  logger.info({ fingerprint: pinned.compiled.fingerprint, digest: pinned.digest }, 'fleet signing roots pinned');
  return pinned;
}

/**
 * Follows a rotation of the fleet signing CA or TSA: a verified desired-state statement names
 * `signedDigest`, which differs from the pinned roots' digest. The roots document is fetched again
 * and pinned only if its digest is the signed one: the desired-state key vouches for it (that key
 * already chooses every vendor's trust policy, so this gives it no new power), the channel does
 * not. Anything else is refused (a security event) and the pinned roots stay.
 */
export async function followSigningRoots(client: ControlPlaneClient, dataDir: string, signedDigest: string, logger: Logger): Promise<PinnedSigningRoots> {
  const { roots, pinned } = await fetchSigningRoots(client);
  if (pinned.digest !== signedDigest) {
    securityEvent(logger, 'agent.signing_roots_mismatch', { signed: signedDigest, received: pinned.digest });
    throw new BerthError(
      'agent.signing_roots_mismatch',
      `the fleet signing roots served have digest ${pinned.digest}, not the ${signedDigest} the desired state vouches for; keeping the pinned roots`,
    );
  }
  await saveSigningRoots(dataDir, roots);
  logger.info(
    {
      fingerprint: pinned.compiled.fingerprint,
      digest: pinned.digest,
      signingCas: roots.signingCas.length,
      timestampAuthorities: roots.timestampAuthorities.length,
    },
    'fleet signing roots rotation followed: new roots vouched for by the signed desired state',
  );
  return pinned;
}
