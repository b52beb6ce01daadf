import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { readTextFile, writePrivateFile } from '../../trust/key-files.js';
import { createDesiredStateSigner, type DesiredStateSigner } from '../../trust/desired-state/sign.js';

export const SIGNING_KEY_FILE = 'desired-state-signing-key.pem';

/**
 * The desired-state signing key: ECDSA P-256, its own file beside (not inside) the TLS keys, made
 * on first start. Replicas share it the way they share the issuing key (a mounted secret).
 */
export async function loadOrCreateSigner(keyDir: string): Promise<DesiredStateSigner> {
  const path = join(keyDir, SIGNING_KEY_FILE);
  let pem = await readTextFile(path);
  if (pem === undefined) {
    pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await writePrivateFile(path, pem);
  }
  const privateKey = createPrivateKey(pem);
  return createDesiredStateSigner(privateKey, createPublicKey(privateKey));
}
