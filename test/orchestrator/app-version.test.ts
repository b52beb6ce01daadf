import { describe, expect, it } from 'vitest';
import { versionSchema as appVersion } from '../../wire/ids.js';

describe('catalog app versions (Margo: SemVer, _ for +)', () => {
  it.each(['1.0.0', '0.1.2-rc.1', '1.2.3_build.7', '1.2.3-rc.1_build.7', '10.20.30_20261201.sha.abc123'])('accepts %s', (v) => {
    expect(appVersion.safeParse(v).success).toBe(true);
  });

  it.each(['v1.0.0', '=1.0.0', ' 1.0.0', '1.0.0 ', '1.0', '1.0.0+build', '1.0.0_build_7', '1.0.0_', '01.0.0', '1.0.0-', ''])('refuses %j', (v) => {
    expect(appVersion.safeParse(v).success).toBe(false);
  });
});
