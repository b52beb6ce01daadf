import { BerthError } from '../common/errors.js';
import { header, statusError, type HttpResponse, type Transport } from './transport.js';

export interface Credentials {
  username: string;
  password: string;
}

/** A parsed `WWW-Authenticate` challenge: `Basic realm=…` or `Bearer realm=…,service=…,scope=…`. */
export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

const MAX_TOKEN_RESPONSE = 64 * 1024;

export function parseChallenge(value: string | undefined): Challenge | undefined {
  if (!value) return undefined;
  const m = /^\s*(Basic|Bearer)\b\s*(.*)$/i.exec(value);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2]!)) !== null) params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: m[1]!.toLowerCase() as 'basic' | 'bearer', params };
}

/**
 * Answers a registry's challenge for one scope: Basic sends the credentials straight away;
 * Bearer follows the distribution token spec (GET the realm with service and scope, Basic
 * credentials if we have them, anonymous otherwise). Tokens are cached per scope and
 * replaced when the registry refuses them.
 */
export class Authenticator {
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(
    private readonly transport: Transport,
    private readonly credentials: Credentials | undefined,
    private readonly allowInsecureTokenRealm = false,
  ) {}

  /** The Authorization header to send for `scope`, if we already know one. */
  headerFor(scope: string): string | undefined {
    if (this.basic && this.credentials) return basicHeader(this.credentials);
    const token = this.tokens.get(scope);
    return token ? `Bearer ${token}` : undefined;
  }

  /** Called on a 401: learns how to authenticate, or throws naming why it cannot. */
  async answer(res: HttpResponse, scope: string, what: string, url: string): Promise<void> {
    const challenge = parseChallenge(header(res, 'www-authenticate'));
    if (!challenge) throw statusError({ what, url }, res);
    if (challenge.scheme === 'basic') {
      if (!this.credentials) throw new BerthError('oci.unauthorized', `registry asks for credentials for ${what} and none were given`);
      if (this.basic) throw new BerthError('oci.unauthorized', `registry refused the credentials for ${what}`);
      this.basic = true;
      return;
    }
    // A cached token that is refused has most likely expired: fetch a fresh one (the caller
    // retries once, so a registry that refuses fresh tokens too ends in a clear error).
    this.tokens.delete(scope);
    this.tokens.set(scope, await this.fetchToken(challenge, scope, what));
  }

  private async fetchToken(challenge: Challenge, scope: string, what: string): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new BerthError('oci.bad-response', `registry's Bearer challenge for ${what} has no realm`);
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw new BerthError('oci.bad-response', `registry's token realm '${realm.slice(0, 100)}' is not a URL`);
    }
    if (realmUrl.protocol !== 'https:' && !(realmUrl.protocol === 'http:' && (this.allowInsecureTokenRealm || isLoopback(realmUrl.hostname)))) {
      throw new BerthError('oci.bad-response', `registry's token realm ${realmUrl.origin} is not HTTPS; credentials are not sent there`);
    }
    if (challenge.params.service) realmUrl.searchParams.set('service', challenge.params.service);
    realmUrl.searchParams.set('scope', challenge.params.scope ?? scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.credentials) headers.authorization = basicHeader(this.credentials);
    const res = await this.transport.send({ method: 'GET', url: realmUrl.toString(), headers, maxBytes: MAX_TOKEN_RESPONSE, what: `a token for ${scope}` });
    if (res.status !== 200) {
      if (res.status === 401 || res.status === 403) {
        throw new BerthError(
          'oci.unauthorized',
          `token service refused ${this.credentials ? 'the credentials' : 'anonymous access'} for ${scope} (${res.status})`,
        );
      }
      throw statusError({ what: `a token for ${scope}`, url: realmUrl.toString() }, res);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new BerthError('oci.bad-response', `token service answer for ${scope} is not JSON`);
    }
    const obj = parsed as { token?: unknown; access_token?: unknown };
    const token = typeof obj.token === 'string' ? obj.token : typeof obj.access_token === 'string' ? obj.access_token : undefined;
    if (!token || token.length > 16 * 1024 || !/^[\x21-\x7e]+$/.test(token)) {
      throw new BerthError('oci.bad-response', `token service answer for ${scope} carries no usable token`);
    }
    return token;
  }
}

function basicHeader(c: Credentials): string {
  return 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}
