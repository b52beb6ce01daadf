import { securityEvent, type Logger } from '../../common/logger.js';
import { verifyCsr } from '../../trust/csr.js';
import { deviceIdFromSpiffeId } from '../../trust/spiffe.js';
import type { DeviceCaller } from '../http/env.js';
import { HttpProblem } from '../http/problem.js';
import type { FleetAuthority } from '../pki/fleet-authority.js';
import { issueAndRecord } from '../pki/issuance.js';
import * as certificates from '../store/certificates.js';
import type { DeviceCertificateRecord } from '../store/certificates.js';
import * as devices from '../store/devices.js';
import * as requests from '../store/requests.js';
import type { Store } from '../store/store.js';
import type { DesiredStateChanged } from '../desired-state/placement.js';
import { rescheduleDevice } from '../scheduling/scheduler.js';
import { recordRevokedCertificates } from '../revocations/list-store.js';
import { DEFAULT_REVOCATION_LIST_LIFETIME_MS, reissueRevocationList } from '../revocations/publish.js';
import { unknownDevice } from './unknown-device.js';

/** Keeping and taking away trust after onboarding: approval, renewal, revocation. */
export interface LifecycleDeps {
  store: Store;
  authority: FleetAuthority;
  logger: Logger;
  certificateLifetimeMs: number;
  /** Told when revocation takes placements away from a device (desired-state side). */
  desiredStateChanged?: DesiredStateChanged;
  /** Lifetime of the CRLs re-issued at revocation (default 24 h; docs/workload-identity.md). */
  revocationListLifetimeMs?: number;
  /**
   * Told of a device whose authentication changed, once committed: this replica then refuses on
   * the very next request (the store's NOTIFY tells every replica, this one a moment later).
   */
  deviceAuth?: { forget(deviceId: string): void };
}

export async function approve(deps: LifecycleDeps, requestId: string, by: string): Promise<DeviceCertificateRecord> {
  const cert = await deps.store.transaction(async (tx) => {
    const request = await requests.getRequest(tx, requestId, true);
    if (!request) throw new HttpProblem(404, 'onboarding.unknown_request', 'No such onboarding request', { detail: `no request '${requestId}'` });
    if (request.status !== 'pending')
      throw new HttpProblem(409, 'onboarding.already_decided', 'The request was already decided', { detail: `request '${requestId}' is ${request.status}` });
    const csr = await verifyCsr(request.csrPem);
    const issued = await issueAndRecord(tx, deps.authority, request.deviceId, csr, deps.certificateLifetimeMs);
    await devices.setDeviceStatus(tx, request.deviceId, 'active');
    await requests.decideRequest(tx, requestId, { status: 'approved', by, certificateFingerprint: issued.fingerprint });
    return issued;
  });
  deps.deviceAuth?.forget(cert.deviceId);
  securityEvent(deps.logger, 'onboarding.approved', { deviceId: cert.deviceId, requestId, by, certificate: cert.fingerprint });
  securityEvent(deps.logger, 'onboarding.accepted', { deviceId: cert.deviceId, method: 'approval', requestId });
  return cert;
}

export async function deny(deps: LifecycleDeps, requestId: string, by: string): Promise<void> {
  const deviceId = await deps.store.transaction(async (tx) => {
    const request = await requests.getRequest(tx, requestId, true);
    if (!request) throw new HttpProblem(404, 'onboarding.unknown_request', 'No such onboarding request', { detail: `no request '${requestId}'` });
    if (request.status !== 'pending')
      throw new HttpProblem(409, 'onboarding.already_decided', 'The request was already decided', { detail: `request '${requestId}' is ${request.status}` });
    await requests.decideRequest(tx, requestId, { status: 'denied', by });
    await devices.setDeviceStatus(tx, request.deviceId, 'denied');
    return request.deviceId;
  });
  deps.deviceAuth?.forget(deviceId);
  securityEvent(deps.logger, 'onboarding.denied', { deviceId, requestId, by });
}

/** Revocation: the device and all its certificates, effective on its next request. */
export async function revoke(deps: LifecycleDeps, deviceId: string, by: string, reason: string): Promise<number> {
  const revoked = await deps.store.transaction(async (tx) => {
    const device = await devices.getDevice(tx, deviceId, true);
    if (!device) throw unknownDevice(deviceId);
    await devices.setDeviceStatus(tx, deviceId, 'revoked', reason);
    const pending = await requests.pendingRequestFor(tx, deviceId);
    if (pending) await requests.decideRequest(tx, pending.id, { status: 'denied', by });
    // Its placements go in the same transaction (spread deployments move to another device).
    await rescheduleDevice(tx, deviceId, deps.desiredStateChanged ?? (async () => {}));
    const count = await certificates.revokeDeviceCertificates(tx, deviceId);
    // The signed list relying parties fetch changes in the same transaction: committed together or not at all.
    const listed = await recordRevokedCertificates(tx, deviceId);
    const published = await reissueRevocationList(
      tx,
      { authority: deps.authority, logger: deps.logger, lifetimeMs: deps.revocationListLifetimeMs ?? DEFAULT_REVOCATION_LIST_LIFETIME_MS },
      listed > 0,
    );
    return { count, crlNumber: published.list.number };
  });
  deps.deviceAuth?.forget(deviceId);
  securityEvent(deps.logger, 'device.revoked', { deviceId, by, reason, certificates: revoked.count, crlNumber: revoked.crlNumber });
  return revoked.count;
}

/**
 * Renewal over mTLS: a new key, the same device id. The certificate used to ask stays valid
 * until the device first uses the new one (so a lost answer does not strand the device).
 */
export async function renew(deps: LifecycleDeps, caller: DeviceCaller, csrPem: string): Promise<DeviceCertificateRecord> {
  const csr = await verifyCsr(csrPem);
  for (const san of csr.uriSans) {
    if (deviceIdFromSpiffeId(deps.authority.trustDomain, san) !== caller.deviceId) {
      const message = `SAN '${san}' does not name the calling device '${caller.deviceId}'`;
      throw new HttpProblem(422, 'csr.san_mismatch', 'The CSR names another device', { detail: message, errors: [{ field: 'csr', message }] });
    }
  }
  if (csr.publicKeySha256 === caller.publicKeySha256) {
    throw new HttpProblem(422, 'renewal.same_key', 'Renewal needs a new key', {
      errors: [{ field: 'csr', message: 'the CSR reuses the current key; generate a new one' }],
    });
  }
  const cert = await deps.store.transaction(async (tx) => {
    const device = await devices.getDevice(tx, caller.deviceId, true);
    if (device?.status !== 'active') throw new HttpProblem(403, 'device.not_active', 'The device is not active');
    return issueAndRecord(tx, deps.authority, caller.deviceId, csr, deps.certificateLifetimeMs);
  });
  securityEvent(deps.logger, 'device.renewed', {
    deviceId: caller.deviceId,
    previous: caller.certificateFingerprint,
    certificate: cert.fingerprint,
    notAfter: cert.notAfter.toISOString(),
  });
  return cert;
}
