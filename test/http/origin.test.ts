import { describe, expect, it } from 'vitest';
import { allowedBy, parseAllowPattern, requestOrigin } from '../../host-apis/wasi/http-origin.js';

const allows = (patterns: string[], scheme: string, authority: string) => {
  const origin = requestOrigin(scheme, authority);
  return origin !== undefined && allowedBy(patterns.map(parseAllowPattern), origin) !== undefined;
};

describe('outbound-http allow patterns', () => {
  it('match scheme, host and port exactly, with default ports', () => {
    expect(allows(['https://api.example.com:443'], 'https', 'api.example.com')).toBe(true);
    expect(allows(['https://api.example.com:443'], 'https', 'API.Example.com:443')).toBe(true);
    expect(allows(['https://api.example.com:443'], 'http', 'api.example.com:443')).toBe(false);
    expect(allows(['https://api.example.com:443'], 'https', 'api.example.com:8443')).toBe(false);
    expect(allows(['https://api.example.com:443'], 'https', 'api.example.com.evil.net')).toBe(false);
    expect(allows(['https://api.example.com:443'], 'https', 'evilapi.example.com')).toBe(false);
  });

  it('a wildcard matches exactly one more label', () => {
    const p = ['https://*.example.com:443'];
    expect(allows(p, 'https', 'a.example.com')).toBe(true);
    expect(allows(p, 'https', 'example.com')).toBe(false);
    expect(allows(p, 'https', 'a.b.example.com')).toBe(false);
    expect(allows(p, 'https', 'aexample.com')).toBe(false);
  });

  it('port * matches any port', () => {
    expect(allows(['http://127.0.0.1:*'], 'http', '127.0.0.1:8080')).toBe(true);
    expect(allows(['http://127.0.0.1:*'], 'http', '127.0.0.1')).toBe(true);
  });

  it('names and IP literals never match each other', () => {
    expect(allows(['http://localhost:80'], 'http', '127.0.0.1:80')).toBe(false);
    expect(allows(['http://127.0.0.1:80'], 'http', 'localhost:80')).toBe(false);
    expect(allows(['http://*.0.0.1:80'], 'http', '127.0.0.1:80')).toBe(false);
    expect(allows(['http://[::1]:80'], 'http', '[::1]:80')).toBe(true);
  });

  it('refuses authorities it cannot read unambiguously', () => {
    for (const a of ['user@host:80', 'host:80:81', 'ho st', 'host:99999', '', 'host.', '-a.com', 'a..b']) {
      expect(requestOrigin('http', a), a).toBeUndefined();
    }
    expect(requestOrigin('ftp', 'host:21')).toBeUndefined();
  });
});
