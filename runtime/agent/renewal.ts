import { BerthError } from '../../common/errors.js';
import { securityEvent, silentLogger, type Logger } from '../../common/logger.js';
import { CERTIFICATE_BACKDATE_MS } from '../../trust/authority.js';
import { generateP256 } from '../../trust/x509.js';
import type { IssuedIdentity } from '../../wire/onboarding.js';
import { createCsr, storeIssued } from './enroll.js';
import { trustDomainOf } from './device-signer.js';
import { failure, httpsJson } from './https.js';
import type { DeviceIdentity } from './identity-files.js';
import { bundleRootsPem, refreshTrustBundle } from './trust-bundle.js';

export interface RenewOptions {
  url: string;
  ca: string | string[];
  dir: string;
  logger?: Logger;
  /** How the agent keeps its trust bundle (its TrustSource); without it, from the channel. */
  refreshBundle?: () => Promise<void>;
}

/**
 * When the certificate was issued: its notBefore is backdated by CERTIFICATE_BACKDATE_MS for
 * clock skew, and that margin is not lifetime. A certificate shorter than the margin (an older
 * one backdated less) counts from notBefore.
 */
export function issuedAt(identity: Pick<DeviceIdentity, 'notBefore' | 'notAfter'>): number {
  const issued = identity.notBefore.getTime() + CERTIFICATE_BACKDATE_MS;
  return issued < identity.notAfter.getTime() ? issued : identity.notBefore.getTime();
}

/**
 * When renewal is due: at `fraction` of the certificate's lifetime from its issue (e.g. 0.5 =
 * half way). Counting from the backdated notBefore would put a short-lived certificate's renewal
 * in the past and renew it in a loop.
 */
export function renewalDueAt(identity: DeviceIdentity, fraction: number): Date {
  if (!(fraction > 0 && fraction < 1)) throw new BerthError('agent.bad_fraction', `renewal fraction must be between 0 and 1, not ${fraction}`);
  const start = issuedAt(identity);
  return new Date(start + (identity.notAfter.getTime() - start) * fraction);
}

/** Renews over mTLS with the current certificate: a new key, the same device id. */
export async function renew(identity: DeviceIdentity, options: RenewOptions): Promise<DeviceIdentity> {
  const keys = await generateP256();
  const csr = await createCsr(keys);
  // The last accepted bundle supersedes the provisioned roots (it follows CA rotations).
  const ca = (await bundleRootsPem(options.dir)) ?? options.ca;
  const trustDomain = trustDomainOf(identity);
  const answer = await httpsJson(
    new URL('/api/v1/identity/renew', options.url).href,
    { ca, key: identity.keyPem, cert: identity.certificatePem, trustDomain },
    'POST',
    { csr },
  );
  if (answer.status !== 201) throw failure(answer, 'renewal');
  const issued = answer.body as IssuedIdentity;
  if (issued.deviceId !== identity.deviceId) {
    securityEvent(options.logger ?? silentLogger, 'agent.renewal_foreign_id', { expected: identity.deviceId, got: issued.deviceId });
    throw new BerthError('agent.renewal_foreign_id', `renewal answered for device '${issued.deviceId}', not '${identity.deviceId}'`);
  }
  const renewed = await storeIssued(options.dir, keys, issued);
  // Renewal is also when the device learns of a CA rotation: keep the bundle current.
  if (options.refreshBundle) await options.refreshBundle();
  else await refreshTrustBundle({ ...options, ca, trustDomain });
  return renewed;
}

/**
 * Keeps the identity fresh: renews at `fraction` of each certificate's lifetime, retrying with
 * exponential back-off (capped) when the control plane cannot be reached.
 */
export class RenewalScheduler {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(
    private identity: DeviceIdentity,
    private readonly options: RenewOptions & {
      fraction: number;
      /**
       * Awaited before the renewal counts as done (and before the next one is scheduled): the
       * agent switches its whole trust state here, so nothing runs on with the old key after.
       */
      onRenewed?: (id: DeviceIdentity) => void | Promise<void>;
      /**
       * An expired certificate cannot renew itself (the control plane refuses it at mTLS): a new
       * identity for the same device by other means, or a BerthError saying why there is none.
       */
      reenroll?: () => Promise<DeviceIdentity>;
    },
  ) {}

  current(): DeviceIdentity {
    return this.identity;
  }

  start(): void {
    this.schedule(renewalDueAt(this.identity, this.options.fraction).getTime() - Date.now());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    // setTimeout holds at most ~24.8 days; longer waits are taken in steps.
    const step = Math.min(Math.max(ms, 0), 2 ** 31 - 1);
    this.timer = setTimeout(() => (step < ms ? this.schedule(ms - step) : void this.attempt()), step);
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    const logger = this.options.logger ?? silentLogger;
    try {
      const expired = this.identity.notAfter.getTime() <= Date.now();
      const next = expired && this.options.reenroll ? await this.options.reenroll() : await renew(this.identity, this.options);
      await this.options.onRenewed?.(next);
      this.identity = next;
      this.failures = 0;
      logger.info(
        { deviceId: next.deviceId, notAfter: next.notAfter.toISOString() },
        expired ? 'device re-enrolled after its certificate expired' : 'device certificate renewed',
      );
      this.schedule(renewalDueAt(this.identity, this.options.fraction).getTime() - Date.now());
    } catch (err) {
      this.failures++;
      const backoff = Math.min(1000 * 2 ** this.failures, 15 * 60_000);
      logger.warn({ err, retryInMs: backoff }, 'device certificate renewal failed');
      this.schedule(backoff);
    }
  }
}
