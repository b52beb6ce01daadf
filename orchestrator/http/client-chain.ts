import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { errorCode, errorMessage } from '../../common/errors.js';
import { validatePath } from '../../trust/path/validate.js';
import { x509 } from '../../trust/x509.js';

/** Why a connection's client chain was refused by Berth's own validation, or undefined when it passed. */
export interface ClientChainVerdict {
  refused?: { reason: string; message: string };
}

const MAX_PEER_CHAIN = 8;

/**
 * The chain a device presented, validated as a device TLS client certificate to the fleet roots
 * (trust/path/validate.ts). OpenSSL has already verified the handshake; this does not depend on
 * how OpenSSL was configured (its purpose defaults, partial chains) and holds the same rules
 * (keyUsage, extendedKeyUsage clientAuth, pathLen, name constraints) as every other place Berth
 * accepts a certificate. Run once per connection.
 */
export function validateClientChain(socket: TLSSocket, anchors: readonly x509.X509Certificate[], now: Date): ClientChainVerdict {
  try {
    const [leaf, ...intermediates] = peerChain(socket.getPeerCertificate(true));
    if (!leaf) return { refused: { reason: 'chain.untrusted', message: 'no client certificate' } };
    validatePath({ leaf, intermediates, anchors, purpose: 'device-tls-client', at: now });
    return {};
  } catch (err) {
    return { refused: { reason: errorCode(err, 'chain.malformed'), message: errorMessage(err) } };
  }
}

function peerChain(peer: DetailedPeerCertificate): x509.X509Certificate[] {
  const chain: x509.X509Certificate[] = [];
  for (let c: DetailedPeerCertificate | undefined = peer; c?.raw && chain.length < MAX_PEER_CHAIN; c = c.issuerCertificate) {
    chain.push(new x509.X509Certificate(new Uint8Array(c.raw)));
    // Node ends the chain with a self-signed certificate that is its own issuer.
    if (c.issuerCertificate === c) break;
  }
  return chain;
}
