import { BerthError } from '../../common/errors.js';
import { securityEvent, silentLogger, type Logger } from '../../common/logger.js';
import { bundleAuthorities, type SpiffeBundle } from '../../trust/bundle.js';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';
import { wellKnownMargoSchema } from '../../wire/onboarding.js';
import { failure, httpsJson } from './https.js';
import { identityPaths } from './identity-files.js';
import { z } from 'zod';

const bundleSchema = z.object({
  keys: z.array(z.object({ use: z.literal('x509-svid'), x5c: z.array(z.string()).min(1) }).loose()).min(1),
  spiffe_sequence: z.number().int().nonnegative(),
  spiffe_refresh_hint: z.number().int().nonnegative(),
});

/** The trust bundle the device last accepted, if any. */
export async function storedBundle(dir: string): Promise<SpiffeBundle | undefined> {
  const text = await readTextFile(identityPaths(dir).bundle);
  return text ? (JSON.parse(text) as SpiffeBundle) : undefined;
}

/** The fleet roots (PEM) from the stored bundle, for verifying the control plane. */
export async function bundleRootsPem(dir: string): Promise<string[] | undefined> {
  const bundle = await storedBundle(dir);
  return bundle && bundleAuthorities(bundle).map((c) => c.toString('pem'));
}

/**
 * Fetches `/.well-known/margo` and the bundle it names, over TLS verified with the roots the
 * device already trusts (never trust on first use), and keeps it unless its `spiffe_sequence`
 * is lower than the stored one: that is a rollback, refused and logged as a security event.
 */
export async function refreshTrustBundle(options: {
  url: string;
  ca: string | string[];
  dir: string;
  logger?: Logger;
  trustDomain?: string;
}): Promise<SpiffeBundle> {
  const logger = options.logger ?? silentLogger;
  const tls = { ca: options.ca, ...(options.trustDomain ? { trustDomain: options.trustDomain } : {}) };
  const wk = await httpsJson(new URL('/.well-known/margo', options.url).href, tls, 'GET');
  if (wk.status !== 200) throw failure(wk, 'trust bootstrap');
  const where = wellKnownMargoSchema.safeParse(wk.body);
  if (!where.success) throw new BerthError('agent.bad_well_known', '/.well-known/margo is not {trustDomain, trustBundleUri}');
  if (new URL(where.data.trustBundleUri).protocol !== 'https:') throw new BerthError('agent.bad_well_known', 'the trust bundle URI must be https');
  const answer = await httpsJson(where.data.trustBundleUri, tls, 'GET');
  if (answer.status !== 200) throw failure(answer, 'trust bundle');
  return acceptBundle(answer.body, options.dir, logger);
}

/**
 * Keeps `body` as the device's trust bundle if it is a SPIFFE bundle whose certificates parse and
 * whose `spiffe_sequence` is not lower than the stored one's (lower is a rollback: refused, a
 * security event). Whichever way it came: the control plane's channel, or a verified TUF target.
 */
export async function acceptBundle(body: unknown, dir: string, logger: Logger): Promise<SpiffeBundle> {
  const parsed = bundleSchema.safeParse(body);
  if (!parsed.success) throw new BerthError('agent.bad_bundle', `the trust bundle is not a SPIFFE bundle: ${parsed.error.issues[0]?.message}`);
  const bundle = body as SpiffeBundle;
  try {
    bundleAuthorities(bundle);
  } catch {
    throw new BerthError('agent.bad_bundle', 'the trust bundle holds a certificate that does not parse');
  }
  const previous = await storedBundle(dir);
  if (previous && bundle.spiffe_sequence < previous.spiffe_sequence) {
    securityEvent(logger, 'agent.bundle_rollback', { stored: previous.spiffe_sequence, offered: bundle.spiffe_sequence });
    throw new BerthError('agent.bundle_rollback', `trust bundle sequence ${bundle.spiffe_sequence} is lower than the stored ${previous.spiffe_sequence}`);
  }
  await writePrivateFile(identityPaths(dir).bundle, JSON.stringify(bundle, null, 2) + '\n');
  return bundle;
}
