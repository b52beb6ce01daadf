import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { ErrorCode } from '../../host-apis/wasi/http-body.js';
import { isIpLiteral, type AllowPattern, type RequestOrigin } from '../../host-apis/wasi/http-origin.js';
import { isInternalAddress, isLoopbackAddress } from './addresses.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Name resolution; tests inject one so that "names" resolve to loopback without real DNS. */
export type Lookup = (host: string) => Promise<ResolvedAddress[]>;

export const systemLookup: Lookup = async (host) => {
  const found = await dns.lookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export class AddressRefused extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The one address to connect to for `origin`, allowed by `pattern`. The connection is pinned to
 * it, so the name cannot resolve to something else between this check and the connect.
 */
export async function resolveDestination(origin: RequestOrigin, pattern: AllowPattern, lookup: Lookup): Promise<ResolvedAddress> {
  if (isIpLiteral(origin.host)) {
    // The grant named this literal address (names never match literals), so it is allowed as is.
    return { address: origin.host, family: isIP(origin.host) === 6 ? 6 : 4 };
  }
  let found: ResolvedAddress[];
  try {
    found = await lookup(origin.host);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA')
      throw new AddressRefused({ tag: 'DNS-error', val: { rcode: 'NXDOMAIN' } }, `${origin.host} does not resolve`);
    throw new AddressRefused({ tag: 'DNS-error', val: { rcode: code } }, `resolving ${origin.host} failed: ${code ?? 'error'}`);
  }
  if (found.length === 0) throw new AddressRefused({ tag: 'destination-not-found' }, `${origin.host} has no address`);
  if (pattern.host === 'localhost') {
    // `localhost` means this device's loopback and nothing else, whatever a resolver says.
    const loopback = found.find((a) => isLoopbackAddress(a.address));
    if (!loopback || found.some((a) => !isLoopbackAddress(a.address))) {
      throw new AddressRefused({ tag: 'destination-IP-prohibited' }, `localhost resolved to a non-loopback address`);
    }
    return loopback;
  }
  // One internal answer is enough to refuse: a rebinding resolver may mix public and private.
  const internal = found.find((a) => isInternalAddress(a.address));
  if (internal) throw new AddressRefused({ tag: 'destination-IP-prohibited' }, `${origin.host} resolved to internal address ${internal.address}`);
  return found[0]!;
}
