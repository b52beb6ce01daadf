import type { GrantSet } from '../wire/grants.js';

export type ConfigGrant = NonNullable<GrantSet['config']>;

/** `berth:host/config`: the deployment's values, nothing else. */
export function createConfigHost(grant: ConfigGrant) {
  const values = new Map(Object.entries(grant.values));
  return {
    get(key: string): string | undefined {
      return values.get(key);
    },
    keys(): string[] {
      return [...values.keys()];
    },
  };
}

/**
 * Replaces every secret value in a text with `[redacted]`, so an app that logs its own secret
 * does not put it in the device's logs. Short secrets (under 4 characters) are not matched:
 * they would redact ordinary words and protect nothing.
 */
export function secretRedactor(grant: ConfigGrant | undefined): (text: string) => string {
  const secrets = (grant?.secrets ?? [])
    .map((k) => grant?.values[k])
    .filter((v): v is string => typeof v === 'string' && v.length >= 4)
    .sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (t) => t;
  return (text) => {
    let out = text;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
    return out;
  };
}
