import { X509Certificate } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';
import type { FleetSigningRoots } from '../../trust/signing/roots.js';

/** Unix seconds a PEM certificate expires at; parsed once per certificate (they change only at a rotation). */
function expiryOf(pem: string, seen: Map<string, number>): number | undefined {
  let t = seen.get(pem);
  if (t === undefined) {
    try {
      t = Date.parse(new X509Certificate(pem).validTo) / 1000;
    } catch {
      return undefined;
    }
    if (seen.size > 64) seen.clear();
    seen.set(pem, t);
  }
  return t;
}

/**
 * When the current fleet signing CA and timestamp authority expire (docs/signing.md): they live
 * in files beside the CA keys, not in the store, so each replica reports the ones it signs with
 * (the same after `refresh`). Read at scrape from `roots()`, which follows rotations.
 */
export function registerSigningMetrics(registry: Registry, roots: () => FleetSigningRoots | undefined): void {
  const seen = new Map<string, number>();
  new Gauge({
    name: 'berth_fleet_signing_certificate_expiry_timestamp_seconds',
    help: 'When the current fleet signing CA certificate (role="signing_ca") and timestamp authority certificate (role="timestamp_authority") expire, Unix time.',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      this.reset();
      const now = roots();
      const ca = now?.signingCas[0];
      const tsa = now?.timestampAuthorities[0]?.[0];
      const caExpiry = ca === undefined ? undefined : expiryOf(ca, seen);
      const tsaExpiry = tsa === undefined ? undefined : expiryOf(tsa, seen);
      if (caExpiry !== undefined) this.set({ role: 'signing_ca' }, caExpiry);
      if (tsaExpiry !== undefined) this.set({ role: 'timestamp_authority' }, tsaExpiry);
    },
  });
}
