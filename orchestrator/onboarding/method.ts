import type { OnboardingRequest } from '../../wire/onboarding.js';
import type { VerifiedCsr } from '../../trust/csr.js';
import type { DeviceIdentifier } from '../store/devices.js';
import type { Queryable } from '../store/store.js';

/**
 * One way a device proves it may join the fleet (SPIRE's node-attestor seam). Each method checks
 * its own evidence and says which device it is about; the onboarding service does the rest
 * (id resolution, duplicate checks, approval, issuance) the same way for every method.
 */
export interface OnboardingMethod<R extends OnboardingRequest = OnboardingRequest> {
  readonly name: R['method'];
  /**
   * Checks the evidence inside the onboarding transaction. One-time credentials are consumed
   * here, so a later refusal in the same transaction gives them back. Throws HttpProblem.
   */
  attest(tx: Queryable, request: R, csr: VerifiedCsr, requestId: string): Promise<Attestation>;
}

export interface Attestation {
  /** The device id the credential insists on (a token bound to an id). */
  boundDeviceId?: string;
  /** The device id derived from the credential when nothing else names one (factory certificate). */
  derivedDeviceId?: string;
  /** Everything this device is known by; resolved to at most one existing device. */
  identifiers: DeviceIdentifier[];
  /**
   * The identifier that proves this is the same device as before (factory identity). When it
   * already maps to a device, onboarding again is idempotent instead of a duplicate.
   */
  reonboardIdentifier?: DeviceIdentifier;
  labels: Record<string, string>;
  /** For the audit log: what credential was used (never the secret). */
  subject: string;
}

/*
 * TPM attestation (not built): a `tpm` method would take an EK certificate chain (verified
 * against the TPM vendors' CAs like the factory method), a TPM2_Certify of the CSR's key by
 * an attestation key, and a credential-activation round trip. It fits this interface: the EK
 * certificate's hash is the re-onboarding identifier, and the round trip needs a challenge
 * stored the way pending onboarding requests are.
 */
