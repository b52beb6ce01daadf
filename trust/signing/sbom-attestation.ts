import type { PackageURL } from 'packageurl-js';
import { packageName, parsePurl } from '../../wire/purl.js';
import { z } from 'zod';
import type { Digest } from '../../common/digest.js';
import { BerthError } from '../../common/errors.js';
import { truncateText } from '../../common/text.js';
import { checkSubject, type InTotoStatement } from './statement.js';

/** The in-toto predicate type of a CycloneDX SBOM (in-toto attestation framework, predicates/cyclonedx). */
export const CYCLONEDX_BOM_PREDICATE = 'https://cyclonedx.org/bom';

/** A package the SBOM says the component contains: `pkg:type/namespace/name` and its version. */
export interface SbomPackage {
  package: string;
  version: string;
}

export interface VerifiedSbom {
  /** Shipped packages (scope `excluded`, the build's own tools, left out), each once. */
  packages: SbomPackage[];
  /** Components listed in all, shipped or not. */
  components: number;
}

/** More than this many components is not an app's SBOM but an attempt to fill the store. */
export const MAX_SBOM_COMPONENTS = 50_000;
const MAX_DEPTH = 32;

const componentSchema = z.object({
  purl: z.string().max(2048).optional(),
  version: z.string().max(256).optional(),
  scope: z.string().optional(),
  components: z.array(z.unknown()).optional(),
});
const bomSchema = z.object({
  bomFormat: z.literal('CycloneDX'),
  specVersion: z.string().regex(/^1\.[0-9]+$/),
  components: z.array(z.unknown()).optional(),
});

/** A verified statement's SBOM, about this component: its shipped packages, or a refusal naming what is wrong. */
export function checkSbomStatement(statement: InTotoStatement, componentDigest: Digest): VerifiedSbom {
  checkSubject(statement, componentDigest, 'sbom', 'SBOM statement');
  const bom = bomSchema.safeParse(statement.predicate);
  if (!bom.success)
    throw new BerthError(
      'sbom.invalid',
      `the SBOM is not a CycloneDX document: ${bom.error.issues[0]?.path.join('.') || 'top'}: ${bom.error.issues[0]?.message}`,
    );
  const seen = new Map<string, SbomPackage>();
  let count = 0;
  const stack: { list: unknown[]; path: string; depth: number }[] = [{ list: bom.data.components ?? [], path: 'components', depth: 0 }];
  while (stack.length > 0) {
    const { list, path, depth } = stack.pop()!;
    if (depth > MAX_DEPTH) throw new BerthError('sbom.invalid', `the SBOM nests components deeper than ${MAX_DEPTH} at ${path}`);
    for (const [i, item] of list.entries()) {
      if (++count > MAX_SBOM_COMPONENTS) throw new BerthError('sbom.too-large', `the SBOM lists more than ${MAX_SBOM_COMPONENTS} components`);
      const c = componentSchema.safeParse(item);
      if (!c.success) throw new BerthError('sbom.invalid', `${path}.${i}: ${c.error.issues[0]?.path.join('.')}: ${c.error.issues[0]?.message}`);
      if (c.data.components) stack.push({ list: c.data.components, path: `${path}.${i}.components`, depth: depth + 1 });
      if (!c.data.purl || c.data.scope === 'excluded') continue;
      const p = packageOf(c.data.purl, c.data.version, `${path}.${i}.purl`);
      if (p) seen.set(`${p.package}@${p.version}`, p);
    }
  }
  return { packages: [...seen.values()].sort((a, b) => (a.package + a.version < b.package + b.version ? -1 : 1)), components: count };
}

function packageOf(purl: string, fallbackVersion: string | undefined, at: string): SbomPackage | undefined {
  let p: PackageURL;
  try {
    p = parsePurl(purl);
  } catch (err) {
    throw new BerthError('sbom.invalid', `${at}: '${truncateText(purl, 200)}' is not a purl: ${(err as Error).message}`);
  }
  const version = p.version ?? fallbackVersion;
  return version ? { package: packageName(p), version } : undefined;
}
