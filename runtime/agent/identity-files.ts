import { join } from 'node:path';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';

/** The device's identity: its private key, its certificate with the chain above it. */
export interface DeviceIdentity {
  deviceId: string;
  keyPem: string;
  /** Leaf then intermediates, PEM: what the device presents in the TLS handshake. */
  certificatePem: string;
  notBefore: Date;
  notAfter: Date;
}

export function identityPaths(dir: string) {
  return { key: join(dir, 'device.key'), certificate: join(dir, 'device.crt'), meta: join(dir, 'identity.json'), bundle: join(dir, 'trust-bundle.json') };
}

/**
 * identity.json (0600) holds key, certificate and metadata together and is replaced in one
 * rename, so a crash during renewal never pairs a new key with an old certificate. device.key
 * and device.crt are copies for tools (curl, openssl), written after it.
 */
export async function saveIdentity(dir: string, id: DeviceIdentity): Promise<void> {
  const p = identityPaths(dir);
  const record = {
    deviceId: id.deviceId,
    notBefore: id.notBefore.toISOString(),
    notAfter: id.notAfter.toISOString(),
    keyPem: id.keyPem,
    certificatePem: id.certificatePem,
  };
  await writePrivateFile(p.meta, JSON.stringify(record, null, 2) + '\n');
  await writePrivateFile(p.key, id.keyPem);
  await writePrivateFile(p.certificate, id.certificatePem);
}

export async function loadIdentity(dir: string): Promise<DeviceIdentity | undefined> {
  const meta = await readTextFile(identityPaths(dir).meta);
  if (!meta) return undefined;
  const m = JSON.parse(meta) as { deviceId: string; notBefore: string; notAfter: string; keyPem: string; certificatePem: string };
  return { deviceId: m.deviceId, keyPem: m.keyPem, certificatePem: m.certificatePem, notBefore: new Date(m.notBefore), notAfter: new Date(m.notAfter) };
}
