import { checkServerIdentity, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import { BerthError, errorCode, errorMessage } from '../../common/errors.js';
import { validatePath } from '../../trust/path/validate.js';
import { controlPlaneSpiffeId } from '../../trust/spiffe.js';
import { parseCertificates, x509 } from '../../trust/x509.js';

const ANY_CONTROL_PLANE = /^spiffe:\/\/[a-z0-9._-]+\/control-plane$/;

/**
 * Node's `checkServerIdentity` for connections to the control plane. The TLS handshake has
 * checked that the server's certificate chains to the fleet roots and is for serverAuth; this
 * checks the host name as usual and then that the certificate names the control plane by its
 * SPIFFE ID (`spiffe://<trust-domain>/control-plane`, docs/trust.md): a device certificate, or
 * any other certificate the fleet CA issued that is valid for the host name, is not the control
 * plane. Before onboarding the device does not know its trust domain yet (`undefined`): any
 * trust domain's control-plane ID is accepted then, and the identity issued must match it.
 */
export function controlPlaneIdentityCheck(trustDomain: string | undefined, ca?: string | string[]): (host: string, cert: PeerCertificate) => Error | undefined {
  return (host, cert) => {
    const hostError = checkServerIdentity(host, cert);
    if (hostError) return hostError;
    if (ca !== undefined) {
      const pathError = serverPathError(host, cert as DetailedPeerCertificate, ca);
      if (pathError) return pathError;
    }
    const uris = uriSans(cert.subjectaltname);
    const ok = trustDomain === undefined ? uris.some((u) => ANY_CONTROL_PLANE.test(u)) : uris.includes(controlPlaneSpiffeId(trustDomain));
    if (ok) return undefined;
    const expected = trustDomain === undefined ? 'spiffe://<trust-domain>/control-plane' : controlPlaneSpiffeId(trustDomain);
    return new BerthError(
      'agent.not_the_control_plane',
      `the server at ${host} is not the control plane: its certificate names ${uris.length ? uris.join(', ') : 'no SPIFFE ID'}, not ${expected}`,
    );
  };
}

/** The URI SANs in Node's `subjectaltname` text ("DNS:a, URI:spiffe://…, IP Address:…"). */
function uriSans(subjectaltname: string | undefined): string[] {
  return (subjectaltname ?? '')
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
}

const anchorCache = new Map<string, x509.X509Certificate[]>();

function anchorsOf(ca: string | string[]): x509.X509Certificate[] {
  const pem = [ca].flat().join('\n');
  let anchors = anchorCache.get(pem);
  if (!anchors) {
    if (anchorCache.size >= 8) anchorCache.clear();
    anchorCache.set(pem, (anchors = parseCertificates(pem)));
  }
  return anchors;
}

/**
 * The chain OpenSSL verified, validated again by Berth's own rules for a TLS server certificate
 * (trust/path/validate.ts), so the agent's acceptance of the control plane does not rest on
 * OpenSSL's purpose defaults.
 */
function serverPathError(host: string, peer: DetailedPeerCertificate, ca: string | string[]): Error | undefined {
  try {
    const chain: x509.X509Certificate[] = [];
    for (let c: DetailedPeerCertificate | undefined = peer; c?.raw && chain.length < 8; c = c.issuerCertificate) {
      chain.push(new x509.X509Certificate(new Uint8Array(c.raw)));
      if (c.issuerCertificate === c) break;
    }
    const [leaf, ...intermediates] = chain;
    validatePath({ leaf: leaf!, intermediates, anchors: anchorsOf(ca), purpose: 'tls-server', at: new Date() });
    return undefined;
  } catch (err) {
    return new BerthError('agent.not_the_control_plane', `the server at ${host} is not the control plane: ${errorMessage(err)}`, {
      reason: errorCode(err, 'chain.malformed'),
    });
  }
}
