import type { PackageURL } from 'packageurl-js';
import { z } from 'zod';
import type { Digest } from '../../common/digest.js';
import { isDigest } from '../../common/digest.js';
import {
  CYCLONEDX_STATE,
  cycloneDxJustification,
  justificationSchema,
  openVexJustification,
  STATUS_OF_CYCLONEDX_STATE,
  VEX_STATUSES,
  type Justification,
  type VexStatus,
} from '../../wire/vex.js';
import { validationProblem } from '../http/problem.js';
import { ociPurl, parsePurl } from '../../wire/purl.js';

/**
 * VEX documents in and out: OpenVEX v0.2.0 and CycloneDX 1.6 (`vulnerabilities[].analysis`).
 * A product is a Berth app version named by an OCI purl, `pkg:oci/<app>@sha256:<hex>`, with an
 * optional `tag=<version>` qualifier when one digest is several versions.
 */

/** One statement as a document gives it, its product not yet resolved to an app version. */
export interface DocumentStatement {
  /** Where in the document, for error messages (`statements.2`). */
  at: string;
  advisoryId: string;
  product: ProductRef;
  status: VexStatus;
  justification?: Justification;
  detail?: string;
}

export interface ProductRef {
  app: string;
  digest: Digest;
  version?: string;
}

export type VexFormat = 'openvex' | 'cyclonedx';

/** Statements times products in one document: each is checked against the catalog, all in one transaction. */
export const MAX_DOCUMENT_STATEMENTS = 10_000;

const text = z.string().min(1).max(2000);
const openVexDocument = z.object({
  '@context': z.string().regex(/^https:\/\/openvex\.dev\/ns(\/v[0-9.]+)?$/),
  statements: z
    .array(
      z.object({
        vulnerability: z.union([z.string().min(1), z.object({ name: z.string().min(1) })]),
        products: z
          .array(z.union([z.string().min(1), z.object({ '@id': z.string().min(1) })]))
          .min(1)
          .max(1000),
        status: z.enum(VEX_STATUSES),
        justification: justificationSchema.optional(),
        impact_statement: text.optional(),
        status_notes: text.optional(),
      }),
    )
    .min(1)
    .max(1000),
});

const cycloneDxDocument = z.object({
  bomFormat: z.literal('CycloneDX'),
  specVersion: z.string(),
  components: z
    .array(z.object({ 'bom-ref': z.string().optional(), purl: z.string().optional() }))
    .max(10_000)
    .optional(),
  vulnerabilities: z
    .array(
      z.object({
        id: z.string().min(1),
        analysis: z.object({
          state: z.enum(Object.keys(STATUS_OF_CYCLONEDX_STATE) as [string, ...string[]]),
          justification: justificationSchema.optional(),
          detail: text.optional(),
        }),
        affects: z
          .array(z.object({ ref: z.string().min(1) }))
          .min(1)
          .max(1000),
      }),
    )
    .min(1)
    .max(1000),
});

/** Reads an OpenVEX or CycloneDX VEX document; anything else, or a product that is not a Berth OCI purl, is a 422 naming where. */
export function readVexDocument(doc: unknown): { format: VexFormat; statements: DocumentStatement[] } {
  const format = formatOf(doc);
  const parsed = (format === 'openvex' ? openVexDocument : cycloneDxDocument).safeParse(doc);
  if (!parsed.success)
    throw validationProblem(
      parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message })),
      'vex.invalid',
    );
  const statements =
    format === 'openvex' ? fromOpenVex(parsed.data as z.output<typeof openVexDocument>) : fromCycloneDx(parsed.data as z.output<typeof cycloneDxDocument>);
  if (statements.length > MAX_DOCUMENT_STATEMENTS) {
    throw validationProblem(
      [{ field: 'body', message: `${statements.length} statements about products, more than the ${MAX_DOCUMENT_STATEMENTS} one document may hold` }],
      'vex.too_large',
    );
  }
  return { format, statements };
}

function formatOf(doc: unknown): VexFormat {
  if (doc && typeof doc === 'object' && '@context' in doc) return 'openvex';
  if (doc && typeof doc === 'object' && 'bomFormat' in doc) return 'cyclonedx';
  throw validationProblem([{ field: 'body', message: 'not a VEX document: neither OpenVEX (@context) nor CycloneDX (bomFormat)' }], 'vex.invalid');
}

function fromOpenVex(doc: z.output<typeof openVexDocument>): DocumentStatement[] {
  return doc.statements.flatMap((s, i) =>
    s.products.map((p, j) => ({
      at: `statements.${i}.products.${j}`,
      advisoryId: typeof s.vulnerability === 'string' ? s.vulnerability : s.vulnerability.name,
      product: productOf(typeof p === 'string' ? p : p['@id'], `statements.${i}.products.${j}`),
      status: s.status,
      ...(s.justification ? { justification: s.justification } : {}),
      ...((s.impact_statement ?? s.status_notes) ? { detail: s.impact_statement ?? s.status_notes } : {}),
    })),
  );
}

function fromCycloneDx(doc: z.output<typeof cycloneDxDocument>): DocumentStatement[] {
  const purlOfRef = new Map((doc.components ?? []).flatMap((c) => (c['bom-ref'] && c.purl ? [[c['bom-ref'], c.purl] as const] : [])));
  return doc.vulnerabilities.flatMap((v, i) =>
    v.affects.map((a, j) => {
      const at = `vulnerabilities.${i}.affects.${j}.ref`;
      // A ref is a component's bom-ref, a purl itself, or a BOM-Link (urn:cdx:…#<bom-ref>).
      const fragment = a.ref.startsWith('urn:cdx:') ? decodeURIComponent(a.ref.slice(a.ref.indexOf('#') + 1)) : a.ref;
      return {
        at,
        advisoryId: v.id,
        product: productOf(purlOfRef.get(fragment) ?? fragment, at),
        status: STATUS_OF_CYCLONEDX_STATE[v.analysis.state]!,
        ...(v.analysis.justification ? { justification: v.analysis.justification } : {}),
        ...(v.analysis.detail ? { detail: v.analysis.detail } : {}),
      };
    }),
  );
}

function productOf(purl: string, at: string): ProductRef {
  const bad = (why: string) => validationProblem([{ field: at, message: `'${purl.slice(0, 200)}' ${why}` }], 'vex.bad_product');
  let p: PackageURL;
  try {
    p = parsePurl(purl);
  } catch (err) {
    throw bad(`is not a purl: ${(err as Error).message}`);
  }
  if (p.type !== 'oci') throw bad('is not an OCI purl (pkg:oci/<app>@sha256:<hex>): Berth products are app versions by digest');
  if (!p.version || !isDigest(p.version)) throw bad('has no sha256 digest as its version');
  const tag = p.qualifiers?.tag;
  return { app: p.name, digest: p.version, ...(tag ? { version: tag } : {}) };
}

/** The purl a document names one app version by. */
export function productPurl(app: string, digest: Digest, version: string, repository?: string): string {
  return ociPurl(app, digest, { tag: version, ...(repository ? { repository: repository.replace(/^oci:\/\//, '') } : {}) });
}

/** One statement with the purl of its product, as a document is written from. */
export interface StatementOut {
  advisoryId: string;
  purl: string;
  status: VexStatus;
  justification?: Justification;
  detail?: string;
}

export function writeOpenVex(id: string, author: string, statements: readonly StatementOut[], timestamp: string): unknown {
  return {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': id,
    author,
    timestamp,
    version: 1,
    statements: statements.map((s) => ({
      vulnerability: { name: s.advisoryId },
      products: [{ '@id': s.purl }],
      status: s.status,
      ...(s.justification ? { justification: openVexJustification(s.justification) } : {}),
      ...(s.detail ? { impact_statement: s.detail } : {}),
    })),
  };
}

/** Statements that say the same of one advisory share one `vulnerabilities` entry, their products in `affects`. */
export function writeCycloneDxVex(statements: readonly StatementOut[]): unknown {
  const groups = new Map<string, StatementOut[]>();
  for (const s of statements) {
    const key = JSON.stringify([s.advisoryId, s.status, s.justification ?? null, s.detail ?? null]);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    vulnerabilities: [...groups.values()].map((group) => {
      const s = group[0]!;
      return {
        id: s.advisoryId,
        analysis: {
          state: CYCLONEDX_STATE[s.status],
          ...(s.justification ? { justification: cycloneDxJustification(s.justification) } : {}),
          ...(s.detail ? { detail: s.detail } : {}),
        },
        affects: group.map((g) => ({ ref: g.purl })),
      };
    }),
  };
}
