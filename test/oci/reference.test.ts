import { describe, expect, it } from 'vitest';
import { formatReference, isMargoVersionTag, parseReference, versionToTag } from '../../oci/reference.js';

const D = 'sha256:' + 'a'.repeat(64);

describe('artifact references', () => {
  it('parses host, port, nested repository, tag and digest', () => {
    expect(parseReference('oci://registry.example.com:5000/acme/apps/sensor:1.2.3-rc.1_build.7')).toEqual({
      registry: 'registry.example.com:5000',
      repository: 'acme/apps/sensor',
      tag: '1.2.3-rc.1_build.7',
    });
    expect(parseReference(`oci://127.0.0.1:5000/acme/sensor@${D}`)).toEqual({ registry: '127.0.0.1:5000', repository: 'acme/sensor', digest: D });
    expect(formatReference(parseReference(`oci://r.io/a/b:1.0.0@${D}`))).toBe(`oci://r.io/a/b:1.0.0@${D}`);
  });

  it.each([
    ['https://r.io/a:1.0.0', /must start with 'oci:\/\/'/],
    ['oci://r.io', /no repository/],
    ['oci://r.io/a:v1.0.0', /no leading 'v'/],
    ['oci://r.io/a:1.0', /not a SemVer/],
    ['oci://r.io/a:1.0.0+build', /not a SemVer|not a valid/],
    ['oci://r.io/a:latest', /not a SemVer/],
    ['oci://r.io/a:1.0.0-01', /not a SemVer/],
    ['oci://r.io/A/B:1.0.0', /not a valid repository/],
    ['oci://r.io/a@sha256:abc', /not a sha256 digest/],
    ['oci://bad host/a:1.0.0', /registry host/],
  ])('refuses %s', (text, why) => {
    expect(() => parseReference(text)).toThrow(why);
  });

  it('maps SemVer versions to Margo tags', () => {
    expect(versionToTag('1.0.0+build.5')).toBe('1.0.0_build.5');
    expect(() => versionToTag('v1.0.0')).toThrow(/no leading 'v'/);
    expect(isMargoVersionTag('10.20.30-alpha.0_x')).toBe(true);
    expect(isMargoVersionTag('01.0.0')).toBe(false);
  });
});
