import { randomBytes } from 'node:crypto';
import { securityEvent, type Logger } from '../../common/logger.js';
import { verifyCsr, type VerifiedCsr } from '../../trust/csr.js';
import { deviceIdFromSpiffeId, isDeviceId } from '../../trust/spiffe.js';
import type { OnboardingRequest } from '../../wire/onboarding.js';
import { HttpProblem } from '../http/problem.js';
import type { FleetAuthority } from '../pki/fleet-authority.js';
import { issueAndRecord } from '../pki/issuance.js';
import * as certificates from '../store/certificates.js';
import type { DeviceCertificateRecord } from '../store/certificates.js';
import * as devices from '../store/devices.js';
import * as requests from '../store/requests.js';
import type { Queryable, Store } from '../store/store.js';
import { getSetting } from '../store/authorities.js';
import type { Attestation, OnboardingMethod } from './method.js';
import { refuseNestedId } from './device-id-claim.js';

export interface OnboardingDeps {
  store: Store;
  authority: FleetAuthority;
  logger: Logger;
  methods: OnboardingMethod[];
  certificateLifetimeMs: number;
  /** Seconds a pending device is told to wait before asking again. */
  pendingRetrySeconds: number;
  /** The control plane's own URL: every URL it hands out starts with it (http/public-url.ts). */
  publicUrl?: string;
}

export type OnboardingOutcome = { kind: 'issued'; certificate: DeviceCertificateRecord } | { kind: 'pending'; requestId: string; deviceId: string };

/** Whether new devices wait for an operator; a store setting so every replica agrees. */
export async function approvalRequired(q: Queryable): Promise<boolean> {
  return (await getSetting<boolean>(q, 'onboarding_approval_required')) === true;
}

/**
 * Onboards one device: verify the CSR (proof of possession), let the method attest the
 * credential, resolve every identifier to one device id, refuse a second key for an existing id,
 * then issue or park the request for approval. All of it in one transaction.
 */
export async function onboard(deps: OnboardingDeps, request: OnboardingRequest): Promise<OnboardingOutcome> {
  const method = deps.methods.find((m) => m.name === request.method);
  if (!method)
    throw new HttpProblem(422, 'onboarding.unknown_method', 'The onboarding method is not enabled', {
      errors: [{ field: 'method', message: `'${request.method}' is not enabled` }],
    });
  const csr = await verifyCsr(request.csr);
  const csrDeviceId = csrNamedDevice(deps.authority.trustDomain, csr);
  const requestId = randomBytes(16).toString('hex');
  let attestation: Attestation | undefined;
  try {
    return await deps.store.transaction(async (tx) => {
      attestation = await method.attest(tx, request as never, csr, requestId);
      return await admit(deps, tx, method.name, attestation, csr, csrDeviceId, requestId);
    });
  } catch (err) {
    if (err instanceof HttpProblem && err.code === 'onboarding.duplicate_id') {
      securityEvent(deps.logger, 'onboarding.duplicate_id', {
        method: method.name,
        subject: attestation?.subject,
        detail: err.message,
        publicKeySha256: csr.publicKeySha256,
      });
    } else if (err instanceof HttpProblem && attestation) {
      securityEvent(deps.logger, 'onboarding.refused', { method: method.name, subject: attestation.subject, reason: err.code, detail: err.message });
    }
    throw err;
  }
}

async function admit(
  deps: OnboardingDeps,
  tx: Queryable,
  methodName: string,
  att: Attestation,
  csr: VerifiedCsr,
  csrDeviceId: string | undefined,
  requestId: string,
): Promise<OnboardingOutcome> {
  const known = await devices.resolveIdentifiers(tx, att.identifiers);
  if (known.length > 1) throw duplicate(`the device's identifiers belong to different devices (${known.join(', ')})`);
  const deviceId = known[0] ?? att.boundDeviceId ?? att.derivedDeviceId ?? csrDeviceId ?? `dev-${randomBytes(8).toString('hex')}`;
  if (att.boundDeviceId && att.boundDeviceId !== deviceId)
    throw duplicate(`the token is bound to '${att.boundDeviceId}' but the device is already known as '${deviceId}'`);
  if (!isDeviceId(deviceId))
    throw new HttpProblem(422, 'onboarding.bad_device_id', 'The device id is not valid', {
      errors: [{ field: 'deviceId', message: `'${deviceId}' is not a valid device id` }],
    });
  if (csrDeviceId !== undefined && csrDeviceId !== deviceId) {
    throw new HttpProblem(422, 'csr.san_mismatch', 'The CSR names another device', {
      detail: `the CSR's SAN names device '${csrDeviceId}' but this onboarding is for '${deviceId}'`,
      errors: [{ field: 'csr', message: `SAN names device '${csrDeviceId}', expected '${deviceId}'` }],
    });
  }
  await devices.lockDeviceIds(tx);
  const existing = await devices.getDevice(tx, deviceId, true);
  if (!existing) await refuseNestedId(tx, deviceId);
  if (existing) {
    const sameFactoryIdentity = att.reonboardIdentifier && (await devices.resolveIdentifiers(tx, [att.reonboardIdentifier]))[0] === deviceId;
    if (!sameFactoryIdentity) throw duplicate(`device id '${deviceId}' is already taken by another key`);
    return reonboard(deps, tx, existing, csr);
  }
  const pending = await approvalRequired(tx);
  await devices.insertDevice(tx, { id: deviceId, status: pending ? 'pending' : 'active', labels: att.labels, method: methodName });
  const clashes = await devices.addIdentifiers(tx, deviceId, att.identifiers);
  if (clashes.length > 0) throw duplicate(`identifier ${clashes[0]!.kind}=${clashes[0]!.value} belongs to another device`);
  if (pending) {
    await requests.insertRequest(tx, { id: requestId, deviceId, method: methodName, csrPem: csr.pem, publicKeySha256: csr.publicKeySha256 });
    securityEvent(deps.logger, 'onboarding.pending', { deviceId, method: methodName, subject: att.subject, requestId });
    return { kind: 'pending', requestId, deviceId };
  }
  const certificate = await issueAndRecord(tx, deps.authority, deviceId, csr, deps.certificateLifetimeMs);
  securityEvent(deps.logger, 'onboarding.accepted', { deviceId, method: methodName, subject: att.subject, certificate: certificate.fingerprint });
  return { kind: 'issued', certificate };
}

/** The same factory identity again: answer what it already has, or a certificate for its new key. */
async function reonboard(deps: OnboardingDeps, tx: Queryable, device: devices.DeviceRecord, csr: VerifiedCsr): Promise<OnboardingOutcome> {
  if (device.status === 'revoked' || device.status === 'denied') {
    throw new HttpProblem(403, `device.${device.status}`, `The device has been ${device.status}`, {
      detail: `device '${device.id}' is ${device.status}; an operator must remove it before it can onboard again`,
      retryable: false,
    });
  }
  if (device.status === 'pending') {
    const open = await requests.pendingRequestFor(tx, device.id);
    if (open && open.publicKeySha256 === csr.publicKeySha256) return { kind: 'pending', requestId: open.id, deviceId: device.id };
    throw duplicate(`device '${device.id}' is waiting for approval with another key`);
  }
  const current = await certificates.currentCertificate(tx, device.id);
  if (current && current.publicKeySha256 === csr.publicKeySha256) return { kind: 'issued', certificate: current };
  const certificate = await issueAndRecord(tx, deps.authority, device.id, csr, deps.certificateLifetimeMs);
  securityEvent(deps.logger, 'onboarding.reonboarded', { deviceId: device.id, certificate: certificate.fingerprint });
  return { kind: 'issued', certificate };
}

function duplicate(detail: string): HttpProblem {
  return new HttpProblem(409, 'onboarding.duplicate_id', 'The device id is already taken', { detail, retryable: false });
}

/** A CSR may name the device it is for (a SPIFFE URI SAN); it may not name anything else. */
function csrNamedDevice(trustDomain: string, csr: VerifiedCsr): string | undefined {
  if (csr.uriSans.length === 0) return undefined;
  const invalid = (message: string) =>
    new HttpProblem(422, 'csr.bad_san', 'The CSR asks for a name it cannot have', { detail: message, errors: [{ field: 'csr', message }] });
  if (csr.uriSans.length > 1) throw invalid('the CSR may carry at most one URI SAN');
  const id = deviceIdFromSpiffeId(trustDomain, csr.uriSans[0]!);
  if (!id) throw invalid(`the CSR's SAN '${csr.uriSans[0]}' is not a device SPIFFE ID in trust domain '${trustDomain}'`);
  return id;
}
