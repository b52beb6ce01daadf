import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { BerthError } from '../../common/errors.js';
import { controlPlaneSpiffeId } from '../../trust/spiffe.js';

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
export function controlPlaneIdentityCheck(trustDomain: string | undefined): (host: string, cert: PeerCertificate) => Error | undefined {
  return (host, cert) => {
    const hostError = checkServerIdentity(host, cert);
    if (hostError) return hostError;
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
