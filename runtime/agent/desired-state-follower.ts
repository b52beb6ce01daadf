import { X509Certificate } from 'node:crypto';
import { decodeProtectedHeader, type JWK } from 'jose';
import { sha256Digest, type Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';
import { securityEvent, type Logger } from '../../common/logger.js';
import { certificateThumbprint, DESIRED_STATE_SIGNATURE_HEADER } from '../../trust/desired-state/statement.js';
import { verifyDesiredState } from '../../trust/desired-state/verify.js';
import { MANIFEST_MEDIA_TYPE, DEPLOYMENT_MEDIA_TYPE } from '../../wire/margo/common.js';
import { stateManifestSchema, type StateManifest } from '../../wire/margo/manifest.js';
import type { AdoptedStateStore, LoadedDocument } from './adopted-state.js';
import { answerError, type ControlPlaneClient, type RawAnswer } from './control-plane-client.js';
import type { DeviceIdentity } from './identity-files.js';
import { truncateText } from '../../common/text.js';

/** A desired state whose manifest, signature and documents all checked out. */
export interface VerifiedDesiredState {
  manifestVersion: number;
  etag: string;
  manifestDigest: Digest;
  manifest: StateManifest;
  documents: LoadedDocument[];
}

export type PollResult = { kind: 'unchanged' } | { kind: 'changed'; state: VerifiedDesiredState };

export interface FollowerContext {
  client: ControlPlaneClient;
  identity: () => DeviceIdentity;
  /** The desired-state keys pinned at onboarding (and followed through rotations since). */
  keys: () => readonly JWK[];
  /** Asked when a statement names a key that is not pinned: pin what a pinned key endorsed. */
  followKeyRotation?: () => Promise<void>;
  /** Digest of the pinned fleet signing roots (undefined before they are pinned). */
  signingRootsDigest?: () => string | undefined;
  /**
   * Asked when a verified statement names other fleet signing roots than the pinned ones: pin the
   * served roots if (and only if) their digest is the signed one; throws otherwise.
   */
  followSigningRoots?: (signedDigest: string) => Promise<void>;
  documents: AdoptedStateStore;
  logger: Logger;
}

/**
 * One round of following the desired state (Margo `GET /api/v1/deployments`): long-poll with the
 * adopted ETag; on a new manifest check its bytes against the ETag, the Berth signature against
 * the pinned keys, this device, its certificate and the adopted version; then fetch every
 * document not held yet and check it against the digest the signature covers. Any failure
 * throws and nothing is adopted (Margo: abort and keep the previous state).
 */
export async function pollDesiredState(
  ctx: FollowerContext,
  adopted: { etag?: string; manifestVersion: number },
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<PollResult> {
  const headers: Record<string, string> = { accept: MANIFEST_MEDIA_TYPE };
  if (adopted.etag) headers['if-none-match'] = adopted.etag;
  const query = adopted.etag && waitSeconds > 0 ? `?wait=${waitSeconds}` : '';
  const answer = await ctx.client.request(`/api/v1/deployments${query}`, { headers, timeoutMs: (waitSeconds + 30) * 1000, maxBytes: 4 * 1024 * 1024, signal });
  if (answer.status === 304) return { kind: 'unchanged' };
  if (answer.status !== 200) throw answerError(answer, 'GET /api/v1/deployments');
  return { kind: 'changed', state: await verifyAnswer(ctx, answer, adopted.manifestVersion, signal) };
}

async function verifyAnswer(ctx: FollowerContext, answer: RawAnswer, lastAdoptedVersion: number, signal?: AbortSignal): Promise<VerifiedDesiredState> {
  // The statement is bound to the certificate the request went out with, not a newer one.
  const identity = answer.identity ?? ctx.identity();
  const manifestDigest = sha256Digest(answer.bytes);
  const etagHeader = String(answer.headers.etag ?? '');
  const etag = etagHeader.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  if (etag !== manifestDigest) {
    securityEvent(ctx.logger, 'agent.manifest_digest_mismatch', { etag: etagHeader, digest: manifestDigest });
    throw new BerthError('agent.manifest_digest_mismatch', `the manifest's ETag ${etagHeader || '(none)'} is not the digest of its bytes (${manifestDigest})`);
  }
  let manifest: StateManifest;
  try {
    manifest = stateManifestSchema.parse(JSON.parse(answer.bytes.toString('utf8')));
  } catch (err) {
    throw new BerthError('agent.bad_manifest', `the state manifest is not a Margo manifest: ${truncateText((err as Error).message, 500)}`);
  }
  const jws = answer.headers[DESIRED_STATE_SIGNATURE_HEADER];
  if (typeof jws !== 'string' || !jws) {
    securityEvent(ctx.logger, 'agent.desired_state_unsigned', { manifestVersion: manifest.manifestVersion });
    throw new BerthError('agent.desired_state_unsigned', 'the desired state came without a Berth-Desired-State-Signature');
  }
  if (ctx.followKeyRotation && !ctx.keys().some((k) => k.kid === signingKeyId(jws))) await ctx.followKeyRotation();
  const claims = await verifyDesiredState(jws, {
    keys: ctx.keys(),
    deviceId: identity.deviceId,
    certificateThumbprint: certificateThumbprint(new X509Certificate(identity.certificatePem).raw),
    lastAdoptedVersion,
    manifest: {
      digest: manifestDigest,
      manifestVersion: manifest.manifestVersion,
      deployments: manifest.deployments,
      bundleDigest: manifest.bundle?.digest ?? null,
    },
    logger: ctx.logger,
  });
  // Before any component of this state is verified: it may be signed under rotated roots. A
  // refusal aborts the round (the pinned roots and the adopted state stay; retried later). A
  // statement without the claim (an older control plane) changes nothing.
  const signedRoots = claims.signingRootsDigest;
  if (signedRoots !== undefined && ctx.followSigningRoots && ctx.signingRootsDigest?.() !== signedRoots) await ctx.followSigningRoots(signedRoots);
  const documents: LoadedDocument[] = [];
  for (const d of manifest.deployments) {
    const held = await ctx.documents.document(d.deploymentId, d.digest as Digest);
    documents.push(held ?? (await fetchDocument(ctx, d.deploymentId, d.digest as Digest, d.url, signal)));
  }
  return { manifestVersion: manifest.manifestVersion, etag: `"${manifestDigest}"`, manifestDigest, manifest, documents };
}

async function fetchDocument(ctx: FollowerContext, deploymentId: string, digest: Digest, url: string, signal?: AbortSignal): Promise<LoadedDocument> {
  // The URL is a path on the control plane (docs/margo.md); anything else is not followed.
  const path = url.startsWith('/') && !url.startsWith('//') ? url : `/api/v1/deployments/${deploymentId}/${digest}`;
  const answer = await ctx.client.request(path, { headers: { accept: DEPLOYMENT_MEDIA_TYPE }, maxBytes: 1024 * 1024, signal });
  // Margo: a 404 on a digest is an error, never a deletion.
  if (answer.status !== 200) throw answerError(answer, `GET deployment ${deploymentId}`);
  const got = sha256Digest(answer.bytes);
  if (got !== digest) {
    securityEvent(ctx.logger, 'agent.document_digest_mismatch', { deploymentId, expected: digest, got });
    throw new BerthError('agent.document_digest_mismatch', `deployment ${deploymentId}: the document's bytes have digest ${got}, not the signed ${digest}`);
  }
  const doc = { deploymentId, digest, bytes: answer.bytes };
  await ctx.documents.putDocument(doc);
  return doc;
}

/** The `kid` a compact JWS names, if it names one (verification says whether it is any good). */
function signingKeyId(jws: string): string | undefined {
  try {
    return decodeProtectedHeader(jws).kid;
  } catch {
    return undefined;
  }
}
