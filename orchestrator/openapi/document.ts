import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE, problemSchema } from '../../wire/problem.js';
import { SAFE_SEGMENT } from '../http/path-params.js';
import { patternSchema, SchemaCollector, type JsonSchema } from './json-schema.js';
import type { Access, ApiOperation, ApiResponse } from './operation.js';
import { openApiPath, pathParameters, patternChoices } from './paths.js';

/** The OpenAPI 3.1 document of the control plane's API (docs/openapi.md). */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  jsonSchemaDialect: string;
  tags: { name: string }[];
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, Record<string, unknown>> };
}

export interface OperationObject {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  'x-berth-access': Access;
  parameters?: Record<string, unknown>[];
  requestBody?: { required: true; content: Record<string, { schema: JsonSchema }>; description?: string };
  responses: Record<string, ResponseObject>;
}

interface ResponseObject {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, { schema: JsonSchema }>;
}

const PROBLEM_REF: JsonSchema = { $ref: '#/components/schemas/Problem' };

/** Who each access level is, in words, for the operation's description. */
const ACCESS_TEXT: Record<Access, string> = {
  public: 'Public: no credential.',
  device: "A device's client certificate (mutual TLS), issued by the fleet CA to an active device.",
  admin: 'Operator bearer token with role `admin`.',
  operator: 'Operator bearer token with role `admin` or `operator`.',
  'catalog-reader': 'Bearer token with role `admin`, `operator` or `vendor:<name>` (a vendor sees only its own).',
  'catalog-writer': 'Bearer token with role `admin` or `vendor:<name>` (a vendor acts only for itself).',
  vendor: 'Bearer token with role `vendor:<name>`.',
};

/** The refusals every operation of a kind can answer, besides those it declares. */
function implicitProblems(op: ApiOperation): Record<number, string> {
  const p: Record<number, string[]> = {};
  const add = (status: number, text: string) => (p[status] ??= []).push(text);
  if (op.access === 'device') {
    add(401, 'No client certificate, or one the fleet CA did not issue, that expired or whose issuer is retired (tls.*)');
    add(403, 'The certificate belongs to no active device, is revoked, or was replaced by a renewal (device.*)');
  } else if (op.access !== 'public') {
    add(401, 'No bearer token, or not a valid one (auth.missing_token, auth.bad_token)');
    add(403, "The token's role does not allow this (auth.forbidden)");
  }
  if (op.params || pathParameters(op.path).length > 0 || op.query) add(400, 'A path or query parameter is not valid (request.bad_parameter)');
  if (op.body && isJsonBody(op.body)) {
    add(400, 'The body is not JSON or could not be read (request.bad_json, request.body_unreadable)');
    add(413, 'The body is too large (request.too_large)');
    add(415, 'The body is not application/json (request.unsupported_media_type)');
    add(422, 'The body does not match its schema; `errors` names each field (request.invalid)');
  }
  add(500, 'The control plane failed; the error is logged (internal)');
  add(503, 'The store is unreachable; retryable, with Retry-After');
  return Object.fromEntries(Object.entries(p).map(([s, texts]) => [s, texts.join('; ')]));
}

function isJsonBody(body: NonNullable<ApiOperation['body']>): body is z.ZodType {
  return body instanceof z.ZodType;
}

export interface DocumentInfo {
  version: string;
}

/** Builds the document from the declared operations; throws on a method and path declared twice. */
export function openApiDocument(operations: readonly ApiOperation[], info: DocumentInfo): OpenApiDocument {
  const schemas = new SchemaCollector();
  schemas.named('Problem', problemSchema, 'output');
  const paths: OpenApiDocument['paths'] = {};
  const operationIds = new Set<string>();
  for (const op of operations) {
    const path = openApiPath(op.path);
    const item = (paths[path] ??= {});
    if (item[op.method]) throw new Error(`${op.method.toUpperCase()} ${path} is declared twice`);
    item[op.method] = operationObject(op, path, schemas);
    if (operationIds.has(item[op.method]!.operationId))
      throw new Error(`${op.method.toUpperCase()} ${path}: operationId ${item[op.method]!.operationId} is taken`);
    operationIds.add(item[op.method]!.operationId);
  }
  const tags = [...new Set(operations.map((o) => o.tag ?? 'Other'))].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Berth control plane',
      version: info.version,
      description:
        'The control plane of Berth: operators and vendors over bearer tokens, devices over mutual TLS (the Margo device API), and the public trust bootstrap. Every refusal is an RFC 9457 problem document (application/problem+json) with a stable `code`. Besides the answers each operation lists, any path may be answered 404 `request.not_found` (no such endpoint or method) or 400 `request.bad_path` (a control character or an escape that is not UTF-8 in the path).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags,
    paths,
    components: {
      schemas: schemas.components,
      securitySchemes: {
        operatorToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'An operator or vendor token (`berth` CLI, POST /api/v1/admin/tokens); its role decides what it may do.',
        },
        deviceCertificate: { type: 'mutualTLS', description: "The device's certificate from onboarding or renewal." },
      },
    },
  };
}

function operationObject(op: ApiOperation, path: string, schemas: SchemaCollector): OperationObject {
  const out: OperationObject = {
    operationId: operationId(op.method, path),
    summary: op.summary,
    description: [op.description, ACCESS_TEXT[op.access]].filter(Boolean).join('\n\n'),
    tags: [op.tag ?? 'Other'],
    security: op.access === 'public' ? [] : [op.access === 'device' ? { deviceCertificate: [] } : { operatorToken: [] }],
    'x-berth-access': op.access,
    responses: {},
  };
  const parameters = [...pathParameterObjects(op, schemas), ...queryParameterObjects(op, schemas)];
  if (parameters.length > 0) out.parameters = parameters;
  if (op.body) {
    out.requestBody = isJsonBody(op.body)
      ? { required: true, content: { 'application/json': { schema: schemas.convert(op.body, 'input') } } }
      : { required: true, description: op.body.description, content: { [op.body.contentType]: { schema: {} } } };
  }
  for (const [status, response] of Object.entries(op.responses)) out.responses[status] = responseObject(response, schemas);
  const problems = { ...implicitProblems(op) };
  for (const [status, text] of Object.entries(op.problems ?? {}))
    problems[Number(status)] = problems[Number(status)] ? `${text}; ${problems[Number(status)]}` : text;
  const refusal = op.errors
    ? { [op.errors.contentType]: { schema: { type: 'object', description: op.errors.description } } }
    : { [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_REF } };
  for (const [status, text] of Object.entries(problems)) {
    if (out.responses[status]) throw new Error(`${op.method.toUpperCase()} ${path}: ${status} is both an answer and a refusal`);
    out.responses[status] = { description: text, content: refusal };
  }
  return out;
}

function responseObject(r: ApiResponse, schemas: SchemaCollector): ResponseObject {
  const out: ResponseObject = { description: r.description };
  if (r.headers) out.headers = Object.fromEntries(Object.entries(r.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
  if (r.schema) out.content = { [r.contentType ?? 'application/json']: { schema: schemas.convert(r.schema, 'output') } };
  else if (r.bodyDescription) {
    const schema: JsonSchema =
      (r.contentType ?? 'application/json') === 'application/json' ? { type: 'object', description: r.bodyDescription } : { description: r.bodyDescription };
    out.content = { [r.contentType ?? 'application/json']: { schema } };
  } else if (r.contentType) out.content = { [r.contentType]: { schema: {} } };
  for (const [type, description] of Object.entries(r.otherContent ?? {})) out.content = { ...out.content, [type]: { schema: { description } } };
  return out;
}

function pathParameterObjects(op: ApiOperation, schemas: SchemaCollector): Record<string, unknown>[] {
  return pathParameters(op.path).map(({ name, pattern }) => {
    const check = op.params?.[name];
    const choices = patternChoices(pattern);
    const schema = choices
      ? { type: 'string', enum: choices }
      : check === undefined
        ? patternSchema(SAFE_SEGMENT)
        : check instanceof RegExp
          ? patternSchema(check)
          : schemas.convert(check, 'input');
    const slashes = pattern === '.+' ? { description: 'May hold `/`, sent as is (not escaped).' } : {};
    return { name, in: 'path', required: true, schema, ...slashes };
  });
}

function queryParameterObjects(op: ApiOperation, schemas: SchemaCollector): Record<string, unknown>[] {
  if (!op.query) return [];
  const object = schemas.convert(op.query, 'input');
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: 'query', required: required.has(name), schema: rest, ...(typeof description === 'string' ? { description } : {}) };
  });
}

/**
 * `post /api/v1/admin/tokens` → `postAdminTokens`; `{id}` → `ById`; a trailing `/` → `Index`
 * (`/console` and `/console/` are two operations). Unique because method and path are.
 */
function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((s) => s && s !== 'api' && s !== 'v1')
    .map((s) => (s.startsWith('{') ? `by-${s.slice(1, -1)}` : s))
    .flatMap((s) => s.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  if (path.length > 1 && path.endsWith('/')) words.push('index');
  return [method, ...words].map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
}
