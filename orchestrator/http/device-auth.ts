import type { TLSSocket } from 'node:tls';
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { securityEvent, type Logger } from '../../common/logger.js';
import { deviceSpiffeId } from '../../trust/spiffe.js';
import * as certificates from '../store/certificates.js';
import type { Store } from '../store/store.js';
import type { FleetAuthority } from '../pki/fleet-authority.js';
import { ClientChainValidator, type ClientChainVerdict } from './client-chain.js';
import type { DeviceAuthCache } from './device-auth-cache.js';
import type { AppEnv } from './env.js';
import { HttpProblem } from './problem.js';

export interface DeviceAuthDeps {
  store: Store;
  authority: FleetAuthority;
  logger: Logger;
  /** Keeps the store's answer per certificate between requests (absent: a query per request). */
  deviceAuth?: DeviceAuthCache;
}

interface PeerOfConnection {
  raw: boolean;
  /** Berth's own path validation of the presented chain, once per connection (set when authorized). */
  chain?: ClientChainVerdict;
  fingerprint: string;
  subject: unknown;
  issuer: unknown;
}

/** TLS 1.3 has no renegotiation: a connection's client certificate is read and hashed once. */
const peers = new WeakMap<TLSSocket, PeerOfConnection>();

function peerOf(socket: TLSSocket): PeerOfConnection {
  let known = peers.get(socket);
  if (!known) {
    const peer = socket.getPeerCertificate();
    const raw = Boolean(peer && peer.raw);
    known = { raw, fingerprint: raw ? createHash('sha256').update(peer.raw).digest('hex') : '', subject: peer?.subject, issuer: peer?.issuer };
    peers.set(socket, known);
  }
  return known;
}

/**
 * Mutual TLS for device endpoints. The server asks for a client certificate but does not reject
 * at the handshake (`rejectUnauthorized: false`), so Node's `authorizationError` can be logged
 * and answered as a problem. The accepted-client policy (device active, certificate current,
 * issuer still trusted) is checked on every request, so a revocation reaches connections that
 * are kept alive or resumed from a session ticket (the store's part of it may come from
 * `DeviceAuthCache`, which forgets a device when the store announces a change to it).
 */
export function requireDevice(deps: DeviceAuthDeps): MiddlewareHandler<AppEnv> {
  // Anchors: every CA the TLS server trusts (roots and intermediates not retired).
  const chains = new ClientChainValidator(() => deps.authority.trustAnchorsPem());
  return async (c, next) => {
    const socket = c.env.incoming.socket as TLSSocket;
    const remote = socket.remoteAddress;
    if (!socket.encrypted) throw new HttpProblem(401, 'tls.required', 'Device endpoints require mutual TLS');
    const peer = peerOf(socket);
    if (!peer.raw) {
      securityEvent(deps.logger, 'tls.client_certificate_missing', { remote, path: c.req.path });
      throw new HttpProblem(401, 'tls.no_client_certificate', 'A client certificate is required', {
        detail: 'present the device certificate issued at onboarding',
      });
    }
    const fingerprint = peer.fingerprint;
    if (!socket.authorized) {
      const reason = String(socket.authorizationError ?? 'unknown');
      securityEvent(deps.logger, 'tls.client_certificate_refused', {
        remote,
        fingerprint,
        subject: peer.subject,
        issuer: peer.issuer,
        authorizationError: reason,
      });
      throw new HttpProblem(401, 'tls.untrusted_client_certificate', 'The client certificate is not trusted', { detail: `certificate refused: ${reason}` });
    }
    peer.chain ??= chains.validate(socket, new Date());
    if (peer.chain.refused) {
      const { reason, message } = peer.chain.refused;
      securityEvent(deps.logger, 'tls.client_certificate_refused', { remote, fingerprint, subject: peer.subject, issuer: peer.issuer, reason });
      throw new HttpProblem(401, 'tls.untrusted_client_certificate', 'The client certificate is not trusted', {
        detail: `certificate refused (${reason}): ${message}`,
      });
    }
    const lookup = () => certificates.findPresented(deps.store, fingerprint);
    const presented = await (deps.deviceAuth ? deps.deviceAuth.presented(fingerprint, lookup) : lookup());
    if (!presented) {
      securityEvent(deps.logger, 'device.unknown_certificate', { remote, fingerprint });
      throw new HttpProblem(403, 'device.unknown_certificate', 'The client certificate belongs to no device');
    }
    const { certificate: cert, deviceStatus } = presented;
    const fields = { remote, fingerprint, deviceId: cert.deviceId };
    if (deviceStatus === 'revoked' || cert.state === 'revoked') {
      securityEvent(deps.logger, 'device.refused_revoked', fields);
      throw new HttpProblem(403, 'device.revoked', 'The device has been revoked', { detail: `device '${cert.deviceId}' is revoked`, retryable: false });
    }
    if (deviceStatus !== 'active')
      throw new HttpProblem(403, 'device.not_active', 'The device is not active', { detail: `device '${cert.deviceId}' is ${deviceStatus}` });
    if (cert.state === 'superseded') {
      securityEvent(deps.logger, 'device.refused_superseded', fields);
      throw new HttpProblem(403, 'device.certificate_superseded', 'The client certificate has been replaced by a renewal');
    }
    // A retired CA or an expiry during a long kept-alive connection: the handshake check is stale.
    if (!deps.authority.isTrustedIssuer(cert.issuerFingerprint)) {
      securityEvent(deps.logger, 'device.refused_retired_issuer', fields);
      throw new HttpProblem(401, 'tls.retired_issuer', 'The client certificate was issued by a retired CA');
    }
    if (Date.now() > cert.notAfter.getTime()) throw new HttpProblem(401, 'tls.certificate_expired', 'The client certificate has expired');
    if (presented.newerActive === 0 && presented.olderActive > 0) {
      // First use of a renewed certificate: the previous one stops working now.
      await deps.store.transaction((tx) => certificates.supersedeOthers(tx, cert.deviceId, fingerprint));
      deps.deviceAuth?.forget(cert.deviceId);
    }
    c.set('device', {
      deviceId: cert.deviceId,
      spiffeId: deviceSpiffeId(deps.authority.trustDomain, cert.deviceId),
      certificateFingerprint: fingerprint,
      publicKeySha256: cert.publicKeySha256,
      notAfter: cert.notAfter,
    });
    await next();
  };
}
