import { describe, expect, it } from 'vitest';
import { BerthError } from '../../common/errors.js';
import { grantsFromFlags, parseSize } from '../../host-apis/grant-flags.js';
import { describeGrants, parseGrants } from '../../host-apis/grants.js';
import { checkImports, judgeImport } from '../../host-apis/import-policy.js';

describe('import policy', () => {
  it('needs no grant for interfaces without authority', () => {
    for (const i of ['wasi:io/streams@0.2.3', 'wasi:cli/environment@0.2.12', 'wasi:cli/stdout@0.2.0']) {
      expect(judgeImport(i, {})).toMatchObject({ allowed: true, grant: 'baseline' });
    }
  });

  it('maps each capability interface to its grant', () => {
    const cases: [string, string][] = [
      ['berth:host/log@0.1.0', 'log'],
      ['berth:host/keyvalue@0.1.0', 'keyvalue'],
      ['wasi:filesystem/types@0.2.12', 'files'],
      ['wasi:clocks/monotonic-clock@0.2.0', 'clocks'],
      ['wasi:random/random@0.2.0', 'random'],
      ['wasi:http/outgoing-handler@0.2.0', 'outbound-http'],
    ];
    for (const [iface, grant] of cases) {
      expect(judgeImport(iface, {})).toMatchObject({ allowed: false });
      expect(judgeImport(iface, parseGrants({ [grant]: grant === 'outbound-http' ? { allow: ['https://a.example:443'] } : {} }))).toMatchObject({
        allowed: true,
        grant,
      });
    }
  });

  it('refuses interfaces Berth offers to nobody, even with every grant', () => {
    expect(judgeImport('wasi:sockets/tcp@0.2.0', parseGrants({ files: {}, clocks: {}, random: {} }))).toMatchObject({ allowed: false });
    expect(judgeImport('evil:host/escape', {})).toMatchObject({ allowed: false, reason: expect.stringContaining('not offered') });
  });

  it('names every refused interface and the app in one error', () => {
    let err: BerthError | undefined;
    try {
      checkImports('acme/sensor', ['berth:host/log@0.1.0', 'berth:host/identity@0.1.0', 'wasi:sockets/tcp@0.2.0'], parseGrants({ log: {} }));
    } catch (e) {
      err = e as BerthError;
    }
    expect(err?.code).toBe('import-not-granted');
    expect(err?.message).toContain('acme/sensor');
    expect(err?.message).toContain('berth:host/identity@0.1.0 needs the "identity" grant');
    expect(err?.message).toContain('wasi:sockets/tcp@0.2.0');
    expect(err?.details).toMatchObject({ refused: ['berth:host/identity@0.1.0', 'wasi:sockets/tcp@0.2.0'] });
  });
});

describe('grants', () => {
  it('fills defaults and refuses unknown grants and fields, naming them', () => {
    expect(parseGrants({ keyvalue: {} }).keyvalue?.quotaBytes).toBe(1024 * 1024);
    expect(() => parseGrants({ teleport: {} })).toThrow(/invalid grant/);
    expect(() => parseGrants({ keyvalue: { quotaBytes: -1 } })).toThrow(/keyvalue\.quotaBytes/);
    expect(() => parseGrants({ 'outbound-http': { allow: ['ftp://x:21'] } })).toThrow(/outbound-http\.allow\.0/);
    expect(() => parseGrants('log')).toThrow(BerthError);
  });

  it('keeps secret values out of descriptions', () => {
    const g = parseGrants({ config: { values: { user: 'bob', password: 'hunter22' }, secrets: ['password'] } });
    expect(JSON.stringify(describeGrants(g))).not.toContain('hunter22');
    expect(describeGrants(g).config?.values.user).toBe('bob');
  });

  it('reads --grant flags', () => {
    const g = grantsFromFlags(['log', 'config=greeting=hi=there', 'secret=token=s3cr3t', 'keyvalue=64K', 'identity=a,b', 'messaging=pub:x,y']);
    expect(g.config?.values).toEqual({ greeting: 'hi=there', token: 's3cr3t' });
    expect(g.config?.secrets).toEqual(['token']);
    expect(g.keyvalue?.quotaBytes).toBe(65536);
    expect(g.identity?.audiences).toEqual(['a', 'b']);
    expect(g.messaging).toMatchObject({ publish: ['x', 'y'], subscribe: ['y'] }); // plus the default messaging limits
    expect(() => grantsFromFlags(['nope'])).toThrow(/unknown grant "nope"/);
    expect(() => grantsFromFlags(['config=novalue'])).toThrow(/KEY=VALUE/);
    expect(() => parseSize('12 parsecs')).toThrow(/not a size/);
    expect(parseSize('2M')).toBe(2 * 2 ** 20);
  });
});
