/**
 * Hono path patterns as OpenAPI paths: `/apps/:id/versions` is `/apps/{id}/versions`, and a
 * parameter's own pattern (`:decision{approve|deny}`, `:deviceId{.+}`) is kept for its schema.
 * The generator and the test that every served route is documented both read paths through this.
 */
export interface PathParameter {
  name: string;
  /** Hono's pattern for it, when the route gives one. */
  pattern?: string;
}

const PARAM = /:([A-Za-z0-9_]+)(?:\{([^}]*)\})?/g;

export function openApiPath(honoPath: string): string {
  return honoPath.replace(PARAM, (_m, name: string) => `{${name}}`);
}

export function pathParameters(honoPath: string): PathParameter[] {
  return [...honoPath.matchAll(PARAM)].map((m) => (m[2] === undefined ? { name: m[1]! } : { name: m[1]!, pattern: m[2] }));
}

/** The choices of a pattern that is only alternatives (`approve|deny`), else undefined. */
export function patternChoices(pattern: string | undefined): string[] | undefined {
  return pattern !== undefined && /^[\w-]+(\|[\w-]+)*$/.test(pattern) ? pattern.split('|') : undefined;
}
