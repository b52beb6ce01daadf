import canonicalizeModule from 'canonicalize';

/**
 * RFC 8785 (JCS) canonical JSON: sorted members, no whitespace. The package is CommonJS whose
 * default export lands differently under Node's ESM loader and under the bundlers, hence the unwrap.
 */
export const canonicalize = ((canonicalizeModule as unknown as { default?: unknown }).default ?? canonicalizeModule) as (input: unknown) => string | undefined;
