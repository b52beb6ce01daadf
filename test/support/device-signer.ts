import { createIntermediateCa, createRootCa, issueDeviceCertificate, type KeyedCertificate } from '../../trust/authority.js';
import type { DeviceSigner } from '../../trust/workload/token.js';
import { generateP256 } from '../../trust/x509.js';
import { rejectionOf } from './refusal.js';

/** A device of a test fleet as the workload-token code sees it: its key and chain to `issuer`. */
export async function testDevice(issuer: KeyedCertificate, trustDomain: string, deviceId: string, lifetimeMs = 86_400_000): Promise<DeviceSigner> {
  const keys = await generateP256();
  const cert = await issueDeviceCertificate(issuer, trustDomain, deviceId, keys.publicKey, { lifetimeMs });
  return { trustDomain, deviceId, privateKey: keys.privateKey, chain: [cert, issuer.certificate] };
}

/** A root and issuing CA, and one device under them. */
export async function testFleetDevice(
  trustDomain: string,
  deviceId: string,
  lifetimeMs?: number,
): Promise<{ root: KeyedCertificate; issuing: KeyedCertificate; signer: DeviceSigner }> {
  const root = await createRootCa(trustDomain);
  const issuing = await createIntermediateCa(root, trustDomain);
  return { root, issuing, signer: await testDevice(issuing, trustDomain, deviceId, lifetimeMs) };
}

/** The BerthError code a refused promise carries (and that it is refused with a BerthError). */
export async function refusal(p: Promise<unknown>): Promise<string> {
  return (await rejectionOf(p)).code;
}
