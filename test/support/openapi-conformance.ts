import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { berthPackageJson } from '../../common/paths.js';
import { PROBLEM_CONTENT_TYPE } from '../../wire/problem.js';
import { openApiDocument, type OpenApiDocument, type OperationObject } from '../../orchestrator/openapi/document.js';
import { openApiPath } from '../../orchestrator/openapi/paths.js';
import { controlPlaneApi } from '../../orchestrator/routes/index.js';

/**
 * Checks an HTTP answer against the control plane's OpenAPI document (docs/openapi.md,
 * "Conformance"): the operation is described, the status is one it declares, the content type
 * is one that status declares, and a JSON body validates against its schema (ajv, draft
 * 2020-12). Answers that do not are mismatches: the harness's `call` fails the calling test.
 */
export interface AnswerToCheck {
  method: string;
  /** The request path, without the query. */
  path: string;
  status: number;
  contentType: string | undefined;
  /** The raw body text. */
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
}

/**
 * Answers of the app itself rather than of an operation (orchestrator/app.ts): an unknown
 * endpoint, and a path holding a control character or bad escape (refused before routing).
 * The document's description names them; they are checked as problem documents.
 */
const APP_WIDE_REFUSALS = [
  { status: 404, code: 'request.not_found' },
  { status: 400, code: 'request.bad_path' },
];

/** A content type without its parameters, lower case: `text/plain; charset=utf-8` → `text/plain`. */
const mediaType = (contentType: string): string => contentType.split(';')[0]!.trim().toLowerCase();

const DOCUMENT_ID = 'https://berth.invalid/openapi.json';

interface Route {
  method: string;
  pattern: RegExp;
  /** Literal characters: the more, the more specific (`/advisories/{id}/vex` over `/advisories/{id}`). */
  weight: number;
  operation: OperationObject;
}

export class OpenApiConformance {
  readonly document: OpenApiDocument;
  private readonly routes: Route[];
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    const operations = controlPlaneApi();
    this.document = openApiDocument(operations, { version: berthPackageJson().version });
    this.routes = operations.map((op) => {
      const honoPath = op.path;
      const source = honoPath
        .split(/(:[A-Za-z0-9_]+(?:\{[^}]*\})?)/)
        .map((part) => {
          const m = /^:[A-Za-z0-9_]+(?:\{([^}]*)\})?$/.exec(part);
          return m ? `(${m[1] ?? '[^/]+'})` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return {
        method: op.method.toUpperCase(),
        pattern: new RegExp(`^${source}$`),
        weight: honoPath.replace(/:[A-Za-z0-9_]+(\{[^}]*\})?/g, '').length,
        operation: this.document.paths[openApiPath(honoPath)]![op.method]!,
      };
    });
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormatsModule as unknown as (ajv: Ajv2020) => void)(this.ajv);
    this.ajv.addSchema({ $id: DOCUMENT_ID, components: this.document.components });
  }

  /** The described operation of `method path`, the most specific when several patterns match. */
  operationOf(method: string, path: string): OperationObject | undefined {
    const wanted = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
    return this.routes.filter((r) => r.method === wanted && r.pattern.test(path)).sort((a, b) => b.weight - a.weight)[0]?.operation;
  }

  /** An app-wide refusal: a problem document, whatever the path. */
  private problemMismatch(where: string, a: AnswerToCheck): string | undefined {
    if ((a.contentType ?? '').split(';')[0]!.trim() !== PROBLEM_CONTENT_TYPE) return `${where}: an app-wide refusal that is not ${PROBLEM_CONTENT_TYPE}`;
    const validate = this.validator({ $ref: '#/components/schemas/Problem' });
    return validate(a.json) ? undefined : `${where}: not a problem document`;
  }

  /** Compiles every JSON response schema of the document: a $ref that does not resolve throws. */
  compileAll(): number {
    let compiled = 0;
    for (const item of Object.values(this.document.paths))
      for (const op of Object.values(item))
        for (const response of Object.values(op.responses))
          for (const media of Object.values(response.content ?? {})) {
            this.validator(media.schema);
            compiled++;
          }
    return compiled;
  }

  /** Compiled once per distinct schema (most refusals share the Problem reference). */
  private validator(schema: object): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.validators.get(key);
    if (!validate) {
      // The document's own references, made absolute so ajv finds them in the components it holds.
      validate = this.ajv.compile(JSON.parse(key.replaceAll('"#/components/', `"${DOCUMENT_ID}#/components/`)) as object);
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** What does not conform, in words; undefined when the answer conforms. */
  mismatch(a: AnswerToCheck): string | undefined {
    const where = `${a.method} ${a.path} → ${a.status}`;
    const appWide = APP_WIDE_REFUSALS.find((r) => r.status === a.status && (a.json as { code?: unknown } | undefined)?.code === r.code);
    if (appWide) return this.problemMismatch(where, a);
    const op = this.operationOf(a.method, a.path);
    // Device and operator authentication run before routing, so a caller without credentials
    // learns nothing of which paths exist: a 401 where no operation is described is the app's.
    if (!op && a.status === 401) return this.problemMismatch(where, a);
    if (!op) return `${where}: no operation in the OpenAPI document`;
    const response = op.responses[String(a.status)];
    if (!response) return `${where}: status not declared by ${op.operationId} (declared: ${Object.keys(op.responses).join(', ')})`;
    if (!response.content) return a.text === '' || a.method.toUpperCase() === 'HEAD' ? undefined : `${where}: a body where ${op.operationId} declares none`;
    const type = mediaType(a.contentType ?? '');
    // A declared type may carry parameters (Prometheus' `version=0.0.4`): matched on the type.
    const media = Object.entries(response.content).find(([declared]) => mediaType(declared) === type)?.[1];
    if (!media) return `${where}: content type '${type}' not declared (declared: ${Object.keys(response.content).join(', ')})`;
    if (!(type === 'application/json' || type.endsWith('+json'))) return undefined;
    if (a.json === undefined) return `${where}: a ${type} body that is not JSON`;
    const validate = this.validator(media.schema);
    if (validate(a.json)) return undefined;
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
    return `${where}: the body does not match ${op.operationId}'s schema: ${errors.slice(0, 5).join('; ')}`;
  }
}
