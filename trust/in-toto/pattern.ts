/**
 * Artifact name patterns as in-toto rules use them (Python's fnmatch, which the reference
 * implementation uses): `*` matches any run of characters, `/` included; `?` exactly one.
 * Character classes (`[...]`) are not supported; the layout schema refuses them.
 */
export function matchesPattern(pattern: string, name: string): boolean {
  return patternRegExp(pattern).test(name);
}

const cache = new Map<string, RegExp>();

function patternRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
    re = new RegExp(`^${source}$`, 'su');
    if (cache.size > 4096) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}
