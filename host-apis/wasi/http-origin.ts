/**
 * The `outbound-http` allow list: `scheme://host:port` patterns, matched against the origin a
 * request names, as written, before anything is resolved or connected (docs/http.md).
 *
 * - scheme: `http` or `https`, exactly.
 * - host: a name, an IPv4 literal, a bracketed IPv6 literal, or `*.` + a name, which matches
 *   exactly one more label (`*.example.com` matches `api.example.com`, not `example.com` nor
 *   `a.b.example.com`), as a TLS wildcard certificate does. Names compare case-insensitively;
 *   a trailing dot is not accepted. A name never matches an IP literal and vice versa.
 * - port: a number, or `*` for any port. A request without a port means the scheme's default.
 */
export interface RequestOrigin {
  scheme: 'http' | 'https';
  /** Lowercase; IPv6 without brackets. */
  host: string;
  port: number;
}

export interface AllowPattern {
  scheme: 'http' | 'https';
  /** Lowercase; `*.` prefix kept for wildcards; IPv6 without brackets. */
  host: string;
  port: number | '*';
}

const PATTERN = /^(https?):\/\/(\*\.[a-z0-9.-]+|[a-z0-9.-]+|\[[0-9a-f:.]+\]):(\d{1,5}|\*)$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function parseAllowPattern(text: string): AllowPattern {
  const m = PATTERN.exec(text.toLowerCase());
  if (!m) throw new Error(`invalid origin pattern ${text}`);
  const port = m[3] === '*' ? '*' : Number(m[3]);
  if (port !== '*' && (port < 1 || port > 65535)) throw new Error(`invalid port in origin pattern ${text}`);
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  return { scheme: m[1] as 'http' | 'https', host, port };
}

/** Parses `scheme` + `authority` as a guest gave them; undefined when they do not name an origin Berth can reach. */
export function requestOrigin(scheme: string, authority: string): RequestOrigin | undefined {
  const s = scheme.toLowerCase();
  if (s !== 'http' && s !== 'https') return undefined;
  // No userinfo: `user@host` is refused rather than interpreted.
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(authority);
  if (!m) return undefined;
  let host = m[1]!.toLowerCase();
  if (host.startsWith('[')) host = host.slice(1, -1);
  else if (!isIpv4(host) && !host.split('.').every((l) => LABEL.test(l))) return undefined;
  const port = m[2] === undefined ? (s === 'https' ? 443 : 80) : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { scheme: s, host, port };
}

export function isIpv4(host: string): boolean {
  return IPV4.test(host);
}

export function isIpLiteral(host: string): boolean {
  return isIpv4(host) || host.includes(':');
}

export function patternMatches(pattern: AllowPattern, origin: RequestOrigin): boolean {
  if (pattern.scheme !== origin.scheme) return false;
  if (pattern.port !== '*' && pattern.port !== origin.port) return false;
  if (pattern.host.startsWith('*.')) {
    if (isIpLiteral(origin.host)) return false;
    const suffix = pattern.host.slice(1); // ".example.com"
    if (!origin.host.endsWith(suffix)) return false;
    const label = origin.host.slice(0, -suffix.length);
    return LABEL.test(label);
  }
  return pattern.host === origin.host;
}

/** The first pattern that allows `origin`, or undefined: the request is refused. */
export function allowedBy(patterns: readonly AllowPattern[], origin: RequestOrigin): AllowPattern | undefined {
  return patterns.find((p) => patternMatches(p, origin));
}

export function formatOrigin(origin: RequestOrigin): string {
  const host = origin.host.includes(':') ? `[${origin.host}]` : origin.host;
  return `${origin.scheme}://${host}:${origin.port}`;
}
