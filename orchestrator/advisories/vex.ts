import { vexStatementSchema, type VexStatement } from '../../wire/vex.js';
import { requireOwnApp, vendorOfRole } from '../catalog/access.js';
import type { DesiredStateChanged } from '../desired-state/placement.js';
import { HttpProblem, validationProblem } from '../http/problem.js';
import { getAdvisory, type AdvisoryRecord } from '../store/advisories.js';
import * as catalog from '../store/catalog.js';
import type { Queryable, Store } from '../store/store.js';
import { upsertVexStatement, vexStatementsOf, type StoredVexStatement } from '../store/vex.js';
import { versionsOfApp, type VersionRef } from './matching.js';
import { devicesOfApps, REFUSING_ACTIONS } from './refused-digests.js';
import { productPurl, readVexDocument, writeCycloneDxVex, writeOpenVex, type DocumentStatement, type StatementOut, type VexFormat } from './vex-documents.js';

/** A statement with the advisory it is about. */
export interface StatedVex extends VexStatement {
  advisoryId: string;
}

/**
 * Records VEX statements, all or none: each about an advisory that exists and an admitted version
 * of an app the caller may speak for (a vendor, its own; an admin, any). A `not_affected` exempts
 * that version from the advisory, so the devices running the app hear of the change in their
 * documents' refused digests at once, in the same transaction.
 */
export async function stateVex(
  store: Store,
  role: string,
  by: string,
  statements: readonly (StatedVex & { at: string })[],
  changed: DesiredStateChanged,
): Promise<StatedVex[]> {
  return store.transaction(async (tx) => {
    const touched = new Map<string, Set<string>>();
    for (const s of statements) {
      const advisory = await getAdvisory(tx, s.advisoryId);
      if (!advisory) throw validationProblem([{ field: `${s.at}`, message: `no advisory '${s.advisoryId}'` }], 'vex.unknown_advisory');
      await checkVersion(tx, role, s);
      const { advisoryId, at: _at, ...statement } = s;
      await upsertVexStatement(tx, advisoryId, statement, by);
      if ((REFUSING_ACTIONS as readonly string[]).includes(advisory.action)) touched.set(s.app, (touched.get(s.app) ?? new Set()).add(advisoryId));
    }
    if (touched.size > 0) {
      const devices = await devicesOfApps(tx, [...touched.keys()]);
      if (devices.length > 0) await changed(tx, devices);
    }
    return statements.map(({ at: _at, ...s }) => s);
  });
}

async function checkVersion(tx: Queryable, role: string, s: StatedVex & { at: string }): Promise<void> {
  const app = await catalog.getApp(tx, s.app);
  if (!app) throw validationProblem([{ field: `${s.at}.app`, message: `no app '${s.app}'` }], 'vex.unknown_app');
  requireOwnApp(role, app);
  if (!(await catalog.getVersion(tx, s.app, s.version)))
    throw validationProblem([{ field: `${s.at}.version`, message: `app '${s.app}' has no version '${s.version}'` }], 'vex.unknown_version');
}

/** An OpenVEX or CycloneDX document's statements, their products resolved to admitted versions. */
export async function statementsOfDocument(store: Store, doc: unknown): Promise<(StatedVex & { at: string })[]> {
  const { statements } = readVexDocument(doc);
  const out: (StatedVex & { at: string })[] = [];
  // Each app's versions read once, however many statements name it.
  const versions = new Map<string, Promise<VersionRef[]>>();
  const of = (app: string) => versions.get(app) ?? versions.set(app, versionsOfApp(store, app)).get(app)!;
  for (const s of statements) for (const version of versionsOfProduct(s, await of(s.product.app))) out.push(stated(s, version));
  return out;
}

/** A document's statement about one version, held to the same rules as one stated directly (`vexStatementSchema`). */
function stated(s: DocumentStatement, version: string): StatedVex & { at: string } {
  const input = {
    app: s.product.app,
    version,
    status: s.status,
    ...(s.justification ? { justification: s.justification } : {}),
    ...(s.detail ? { detail: s.detail } : {}),
  };
  const checked = vexStatementSchema.safeParse(input);
  if (!checked.success)
    throw validationProblem(
      checked.error.issues.map((i) => ({ field: s.at, message: i.message })),
      'vex.invalid',
    );
  return { at: s.at, advisoryId: s.advisoryId, ...checked.data };
}

/** The admitted versions a product names: those of its app with its digest (either digest), narrowed by its tag. */
function versionsOfProduct(s: DocumentStatement, admitted: readonly VersionRef[]): string[] {
  const { app, digest, version } = s.product;
  const matching = admitted.filter((v) => (v.digest === digest || v.componentDigest === digest) && (!version || v.version === version));
  if (matching.length === 0) {
    throw validationProblem(
      [{ field: s.at, message: `no admitted version of app '${app}' has digest ${digest}${version ? ` and version ${version}` : ''}` }],
      'vex.unknown_product',
    );
  }
  return matching.map((v) => v.version);
}

/** The advisory's statements as a document, those about the caller's own apps when the caller is a vendor. */
export async function exportVex(store: Store, role: string, advisoryId: string, format: VexFormat | 'berth', origin: string): Promise<unknown> {
  const advisory = await getAdvisory(store, advisoryId);
  if (!advisory) throw new HttpProblem(404, 'advisory.unknown', 'No such advisory', { detail: `no advisory '${advisoryId}'` });
  const vendor = vendorOfRole(role);
  const own = vendor === undefined ? undefined : new Set((await catalog.listApps(store, vendor)).map((a) => a.id));
  const statements = (await vexStatementsOf(store, advisoryId)).filter((s) => !own || own.has(s.app));
  if (format === 'berth') return { advisory: advisoryId, statements };
  const out = await withPurls(store, statements);
  const timestamp = new Date(Math.max(advisory.createdAt.getTime(), ...statements.map((s) => s.updatedAt.getTime()))).toISOString();
  return format === 'openvex'
    ? writeOpenVex(`${origin}/api/v1/advisories/${encodeURIComponent(advisoryId)}/vex`, authorOf(advisory), out, timestamp)
    : writeCycloneDxVex(out);
}

const authorOf = (a: AdvisoryRecord): string => (a.vendor ? `vendor ${a.vendor}` : 'fleet operator');

async function withPurls(q: Queryable, statements: readonly StoredVexStatement[]): Promise<StatementOut[]> {
  const out: StatementOut[] = [];
  for (const s of statements) {
    const v = await catalog.getVersion(q, s.app, s.version);
    if (!v) continue; // retired since: no artifact left to name
    out.push({
      advisoryId: s.advisoryId,
      purl: productPurl(s.app, v.component.digest, s.version, v.component.repository),
      status: s.status,
      ...(s.justification ? { justification: s.justification } : {}),
      ...(s.detail ? { detail: s.detail } : {}),
    });
  }
  return out;
}
