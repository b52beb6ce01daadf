import { isIPv4, isIPv6 } from 'node:net';

/**
 * Addresses an app reaches only when its grant names them literally (or `localhost`): the
 * device itself, its local networks and anything not globally routable. A granted *name* that
 * resolves to one of these is a DNS-rebinding-style attempt, or a misconfiguration; either way
 * it is refused (docs/http.md).
 */
export function isInternalAddress(address: string): boolean {
  if (isIPv4(address)) return internalV4(address);
  if (isIPv6(address)) return internalV6(address.toLowerCase());
  return true;
}

export function isLoopbackAddress(address: string): boolean {
  if (isIPv4(address)) return address.startsWith('127.');
  const a = address.toLowerCase();
  return a === '::1' || (a.startsWith('::ffff:') && isIPv4(a.slice(7)) && a.slice(7).startsWith('127.'));
}

function internalV4(address: string): boolean {
  const [a, b] = address.split('.').map(Number) as [number, number];
  return (
    a === 0 || // this network
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local (cloud metadata lives here)
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) || // IETF protocol assignments
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast, reserved, broadcast
  );
}

function internalV6(a: string): boolean {
  if (a === '::' || a === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return internalV4(mapped[1]!);
  if (a.startsWith('::ffff:') || a.startsWith('64:ff9b:')) return true; // mapped/translated in hex form: refuse rather than decode
  const first = Number.parseInt(a.split(':')[0] || '0', 16);
  return (
    (first & 0xfe00) === 0xfc00 || // unique local
    (first & 0xffc0) === 0xfe80 || // link-local
    (first & 0xff00) === 0xff00 || // multicast
    first === 0 // other reserved forms (IPv4-compatible etc.)
  );
}
