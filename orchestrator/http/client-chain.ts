import { createHash } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { errorCode, errorMessage } from '../../common/errors.js';
import { validatePath } from '../../trust/path/validate.js';
import { parseCertificates, x509 } from '../../trust/x509.js';

/** Why a connection's client chain was refused by Berth's own validation, or undefined when it passed. */
export interface ClientChainVerdict {
  refused?: { reason: string; message: string };
}

const MAX_PEER_CHAIN = 8;
const MAX_REMEMBERED = 50_000;

/**
 * Validates the chains devices present as device TLS client certificates to the fleet roots
 * (trust/path/validate.ts). OpenSSL has already verified the handshake; this does not depend on
 * how OpenSSL was configured (its purpose defaults, partial chains) and holds the same rules
 * (keyUsage, extendedKeyUsage clientAuth, pathLen, name constraints) as every other place Berth
 * accepts a certificate. Parsing a chain costs milliseconds, so a verdict is remembered per
 * (chain, anchors) until the first certificate in the path expires: a fleet reconnecting after a
 * control-plane restart pays it once per device certificate. Expiry and retired issuers are
 * checked again on every request anyway (device-auth.ts).
 */
export class ClientChainValidator {
  private readonly verdicts = new Map<string, { verdict: ClientChainVerdict; until: number }>();
  private anchors: { pem: string; certificates: x509.X509Certificate[] } | undefined;

  constructor(private readonly anchorsPem: () => string[]) {}

  validate(socket: TLSSocket, now: Date): ClientChainVerdict {
    const raw = peerChain(socket.getPeerCertificate(true));
    if (raw.length === 0) return { refused: { reason: 'chain.untrusted', message: 'no client certificate' } };
    const anchors = this.currentAnchors();
    const hash = createHash('sha256').update(anchors.pem);
    for (const der of raw) hash.update(der);
    const key = hash.digest('hex');
    const known = this.verdicts.get(key);
    if (known && now.getTime() < known.until) return known.verdict;
    const { verdict, until } = validateRaw(raw, anchors.certificates, now);
    if (this.verdicts.size >= MAX_REMEMBERED) this.verdicts.delete(this.verdicts.keys().next().value!);
    this.verdicts.set(key, { verdict, until });
    return verdict;
  }

  private currentAnchors(): { pem: string; certificates: x509.X509Certificate[] } {
    const pem = this.anchorsPem().join('\n');
    if (this.anchors?.pem !== pem) this.anchors = { pem, certificates: parseCertificates(pem) };
    return this.anchors;
  }
}

function validateRaw(raw: readonly Buffer[], anchors: readonly x509.X509Certificate[], now: Date): { verdict: ClientChainVerdict; until: number } {
  try {
    const [leaf, ...intermediates] = raw.map((der) => new x509.X509Certificate(new Uint8Array(der)));
    const { path } = validatePath({ leaf: leaf!, intermediates, anchors, purpose: 'device-tls-client', at: now });
    return { verdict: {}, until: Math.min(...path.map((c) => c.notAfter.getTime())) };
  } catch (err) {
    // A refusal is remembered briefly only: a time-dependent one (not yet valid) may pass later.
    return { verdict: { refused: { reason: errorCode(err, 'chain.malformed'), message: errorMessage(err) } }, until: now.getTime() + 60_000 };
  }
}

/** The DER certificates of the chain Node reports for the peer, leaf first. */
function peerChain(peer: DetailedPeerCertificate): Buffer[] {
  const chain: Buffer[] = [];
  for (let c: DetailedPeerCertificate | undefined = peer; c?.raw && chain.length < MAX_PEER_CHAIN; c = c.issuerCertificate) {
    chain.push(c.raw);
    // Node ends the chain with a self-signed certificate that is its own issuer.
    if (c.issuerCertificate === c) break;
  }
  return chain;
}
