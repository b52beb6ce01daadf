import { webcrypto } from 'node:crypto';
import { BerthError } from '../../common/errors.js';
import { EC_P256, privateKeyToPem } from '../../trust/x509.js';
import { strictPemBlock } from '../http/pem-input.js';
import { validationProblem } from '../http/problem.js';
import type { FleetAuthority, RotateOptions } from './fleet-authority.js';

/** What `POST /api/v1/admin/ca/rotations` accepts (docs/trust.md "Rotation"). */
export interface CaRotationRequest {
  newRoot: boolean;
  rootKeyPem?: string | undefined;
}

/**
 * Checks a CA rotation request in full before anything is created, then rotates. `rootKeyPem`
 * signs the new intermediate under the current root when that root's key is kept offline; a new
 * root makes its own key, so giving one with `newRoot` is refused rather than ignored. Every
 * refusal is a 422 naming `rootKeyPem`, and leaves the CA as it was.
 */
export async function rotateCa(authority: FleetAuthority, request: CaRotationRequest): Promise<Awaited<ReturnType<FleetAuthority['rotate']>>> {
  const options: RotateOptions = { newRoot: request.newRoot };
  if (request.rootKeyPem !== undefined) {
    if (request.newRoot)
      throw rootKeyProblem('not used with newRoot: a new root makes its own key (leave rootKeyPem out, or rotate under the current root without newRoot)');
    options.rootKeyPem = await p256PrivateKeyPem(request.rootKeyPem);
  }
  try {
    return await authority.rotate(options);
  } catch (err) {
    if (err instanceof BerthError && err.code === 'pki.wrong_root_key') throw rootKeyProblem('is not the key of the active root certificate', err.code);
    throw err;
  }
}

/** The key as PKCS#8 PEM once it is known to be one ECDSA P-256 private key and nothing else. */
async function p256PrivateKeyPem(text: string): Promise<string> {
  const der = strictPemBlock('rootKeyPem', text, 'PRIVATE KEY', 'key.bad_private_key');
  let key: webcrypto.CryptoKey;
  try {
    key = await webcrypto.subtle.importKey('pkcs8', der, EC_P256, true, ['sign']);
  } catch {
    throw rootKeyProblem('must be an ECDSA P-256 private key (PKCS#8); this one is another type or does not parse');
  }
  return privateKeyToPem(key);
}

function rootKeyProblem(message: string, code = 'key.bad_private_key') {
  return validationProblem([{ field: 'rootKeyPem', message }], code);
}
