import { z } from 'zod';

/** A JSON Schema (draft 2020-12, OpenAPI 3.1's dialect) as the document holds it. */
export type JsonSchema = Record<string, unknown>;

/**
 * zod schemas as OpenAPI 3.1 schemas. Requests are described as they are sent (`io: 'input'`:
 * a member with a default is optional), answers as they are produced (`io: 'output'`). A
 * schema's own `$defs` (zod emits them for recursive shapes) are moved to
 * `components.schemas`, since inside the document `#/$defs/...` would point at its root.
 */
export class SchemaCollector {
  readonly components: Record<string, JsonSchema> = {};
  private next = 1;

  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
    delete json.$schema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    const renamed = new Map<string, string>();
    for (const name of Object.keys(defs)) renamed.set(`#/$defs/${name}`, `#/components/schemas/Defined${this.next++}`);
    for (const [name, def] of Object.entries(defs)) this.components[renamed.get(`#/$defs/${name}`)!.split('/').pop()!] = rewriteRefs(def, renamed);
    return rewriteRefs(json, renamed);
  }

  /** A schema kept once under `components.schemas.<name>`; the answer is the reference to it. */
  named(name: string, schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    this.components[name] ??= this.convert(schema, io);
    return { $ref: `#/components/schemas/${name}` };
  }
}

function rewriteRefs<T>(value: T, renamed: ReadonlyMap<string, string>): T {
  if (Array.isArray(value)) return value.map((v: unknown) => rewriteRefs(v, renamed)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '$ref' && typeof v === 'string' && v === '#')
      throw new Error('a schema that refers to its own root cannot be placed in the document; give it an id');
    out[k] = k === '$ref' && typeof v === 'string' ? (renamed.get(v) ?? v) : rewriteRefs(v, renamed);
  }
  return out as T;
}

/** A path parameter's check as a schema: a zod schema converted, a RegExp as its pattern. */
export function patternSchema(pattern: RegExp): JsonSchema {
  return { type: 'string', pattern: pattern.source };
}
