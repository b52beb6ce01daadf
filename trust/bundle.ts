import { webcrypto } from 'node:crypto';
import { x509 } from './x509.js';

/**
 * A SPIFFE trust bundle (JWKS with `use: x509-svid` entries), as Margo's `trustBundleUri` serves
 * it. Clients keep the highest `spiffe_sequence` they have seen and refuse a lower one.
 */
export interface SpiffeBundle {
  keys: SpiffeBundleKey[];
  spiffe_sequence: number;
  spiffe_refresh_hint: number;
}

export interface SpiffeBundleKey {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  use: 'x509-svid';
  x5c: string[];
}

export async function buildSpiffeBundle(authorities: readonly x509.X509Certificate[], sequence: number, refreshHintSeconds: number): Promise<SpiffeBundle> {
  const keys: SpiffeBundleKey[] = [];
  for (const cert of authorities) {
    const key = await cert.publicKey.export({ name: 'ECDSA', namedCurve: 'P-256' }, ['verify']);
    const jwk = await webcrypto.subtle.exportKey('jwk', key);
    keys.push({ kty: jwk.kty!, crv: jwk.crv, x: jwk.x, y: jwk.y, use: 'x509-svid', x5c: [Buffer.from(cert.rawData).toString('base64')] });
  }
  return { keys, spiffe_sequence: sequence, spiffe_refresh_hint: refreshHintSeconds };
}

/** The X.509 authorities of a bundle, for a TLS trust store. */
export function bundleAuthorities(bundle: SpiffeBundle): x509.X509Certificate[] {
  return bundle.keys.flatMap((k) => k.x5c.slice(0, 1).map((b64) => new x509.X509Certificate(Buffer.from(b64, 'base64'))));
}
