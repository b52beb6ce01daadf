import { describe, expect, it } from 'vitest';
import { affectedSchema, cvssProblem, isAdvisoryId, vendorOfAdvisoryId } from '../../wire/advisory.js';
import { affects, newestFirst } from '../../orchestrator/advisories/matching.js';

describe('advisory ids', () => {
  it('takes CVE, GHSA and <vendor>:<id> forms and nothing else', () => {
    for (const id of ['CVE-2026-1234', 'CVE-1999-0001', 'CVE-2026-1234567', 'GHSA-2f3m-4q5r-6w7x', 'acme:ADV-2026-01', 'a.b-c:x'])
      expect(isAdvisoryId(id), id).toBe(true);
    for (const id of [
      'CVE-2026-123',
      'cve-2026-1234',
      'CVE-2026-1234 ',
      'GHSA-aaaa-bbbb-cccc',
      'GHSA-2f3m-4q5r',
      'Acme:x',
      'acme:',
      'acme:-x',
      'acme/x',
      '',
      'x'.repeat(200),
    ])
      expect(isAdvisoryId(id), id).toBe(false);
    expect(vendorOfAdvisoryId('acme:ADV-1')).toBe('acme');
    expect(vendorOfAdvisoryId('CVE-2026-1234')).toBeUndefined();
  });
});

describe('CVSS vectors', () => {
  it('accepts v3.0, v3.1 and v4.0 base vectors, with further metrics after them', () => {
    expect(cvssProblem('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBeUndefined();
    expect(cvssProblem('CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:C/C:N/I:L/A:N/E:P/RL:O')).toBeUndefined();
    expect(cvssProblem('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')).toBeUndefined();
  });
  it('names what is wrong', () => {
    expect(cvssProblem('AV:N/AC:L')).toContain('CVSS:3.0');
    expect(cvssProblem('CVSS:2.0/AV:N')).toContain('CVSS:3.0');
    expect(cvssProblem('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H')).toContain('base metric 8 must be A:<N|L|H>');
    expect(cvssProblem('CVSS:3.1/AC:L/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H')).toContain('base metric 1 must be AV');
    expect(cvssProblem('CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toContain("found 'AV:Q'");
    expect(cvssProblem('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:N')).toContain("'AV:N'");
    expect(cvssProblem('CVSS:4.0/AV:N/AC:L/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')).toContain('base metric 3 must be AT');
  });
});

describe('matching', () => {
  const v = (version: string, o: Partial<{ appId: string; vendor: string; digest: `sha256:${string}`; componentDigest: `sha256:${string}` }> = {}) => ({
    appId: 'meter',
    vendor: 'acme',
    version,
    digest: `sha256:${'a'.repeat(64)}` as const,
    ...o,
  });
  const affected = (...a: unknown[]) => a.map((x) => affectedSchema.parse(x));
  it('matches ranges on SemVer (build metadata written with _), digests on either digest, and keeps to the filing vendor', () => {
    const byRange = { vendor: null, affected: affected({ app: 'meter', versions: '>=1.0.0 <1.2.0' }) };
    expect(affects(byRange, v('1.1.9_build.7'))).toBe(true);
    expect(affects(byRange, v('1.2.0'))).toBe(false);
    expect(affects(byRange, v('1.1.0', { appId: 'valve' }))).toBe(false);
    const byDigest = { vendor: null, affected: affected({ digests: [`sha256:${'b'.repeat(64)}`] }) };
    expect(affects(byDigest, v('1.0.0', { componentDigest: `sha256:${'b'.repeat(64)}` }))).toBe(true);
    expect(affects(byDigest, v('1.0.0'))).toBe(false);
    expect(affects({ ...byRange, vendor: 'globex' }, v('1.1.0'))).toBe(false);
  });
  it('orders versions newest first by precedence', () => {
    expect(newestFirst([v('1.0.0'), v('1.10.0'), v('1.2.0'), v('2.0.0-rc.1'), v('1.9.9_b')]).map((x) => x.version)).toEqual([
      '2.0.0-rc.1',
      '1.10.0',
      '1.9.9_b',
      '1.2.0',
      '1.0.0',
    ]);
  });
});
