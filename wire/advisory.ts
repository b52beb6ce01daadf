import { validRange } from 'semver';
import { z } from 'zod';
import type { Digest } from '../common/digest.js';
import { digestSchema } from './margo/common.js';
import { appIdSchema, NAME_PATTERN } from './ids.js';
import { packageName, parsePurl } from './purl.js';

/**
 * Security advisories, as the control plane takes them and (later) devices read their effect:
 * the ids, severities and actions, declared once (docs/vulnerability-response.md).
 */

/** What an advisory does to the versions it affects, weakest first; each does what the ones before it do. */
export const ADVISORY_ACTIONS = ['warn', 'block', 'stop', 'rollback'] as const;
export type AdvisoryAction = (typeof ADVISORY_ACTIONS)[number];

/** CVSS qualitative ratings (FIRST, CVSS v3.1 specification section 5; v4.0 keeps them). */
export const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * An advisory id: a CVE id (`CVE-2026-12345`), a GitHub advisory id (`GHSA-xxxx-xxxx-xxxx`, its
 * alphabet), or a vendor's own, written `<vendor>:<id>` so that two vendors' ids never collide.
 * Every form is one URL path segment.
 */
const CVE = /^CVE-[0-9]{4}-[0-9]{4,19}$/;
const GHSA = /^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/;
const VENDOR_OWN = new RegExp(`^${NAME_PATTERN.source.slice(1, -1)}:[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`);

export function isAdvisoryId(value: unknown): value is string {
  return typeof value === 'string' && (CVE.test(value) || GHSA.test(value) || VENDOR_OWN.test(value));
}

/** The vendor a vendor-form id names (`acme:ADV-1` → `acme`); undefined for CVE and GHSA ids. */
export function vendorOfAdvisoryId(id: string): string | undefined {
  return VENDOR_OWN.test(id) ? id.slice(0, id.indexOf(':')) : undefined;
}

export const advisoryIdSchema = z
  .string()
  .max(128)
  .refine(isAdvisoryId, 'an advisory id is a CVE id (CVE-2026-1234), a GHSA id (GHSA-xxxx-xxxx-xxxx) or a vendor id written <vendor>:<id>');

/**
 * CVSS v3.0/v3.1 and v4.0 base vectors: every base metric once, in the specification's order,
 * with one of its values; environmental and temporal metrics may follow.
 */
const CVSS_BASE: Record<string, [string, string][]> = {
  '3': [
    ['AV', 'NALP'],
    ['AC', 'LH'],
    ['PR', 'NLH'],
    ['UI', 'NR'],
    ['S', 'UC'],
    ['C', 'NLH'],
    ['I', 'NLH'],
    ['A', 'NLH'],
  ],
  '4': [
    ['AV', 'NALP'],
    ['AC', 'LH'],
    ['AT', 'NP'],
    ['PR', 'NLH'],
    ['UI', 'NPA'],
    ['VC', 'HLN'],
    ['VI', 'HLN'],
    ['VA', 'HLN'],
    ['SC', 'HLN'],
    ['SI', 'HLN'],
    ['SA', 'HLN'],
  ],
};

/** Why `vector` is not a CVSS base vector, or undefined when it is one. */
export function cvssProblem(vector: string): string | undefined {
  const [prefix, ...parts] = vector.split('/');
  const version = /^CVSS:(3\.0|3\.1|4\.0)$/.exec(prefix ?? '')?.[1];
  if (!version) return 'starts with CVSS:3.0, CVSS:3.1 or CVSS:4.0';
  const base = CVSS_BASE[version[0]!]!;
  for (let i = 0; i < base.length; i++) {
    const [metric, values] = base[i]!;
    const [name, value, ...rest] = (parts[i] ?? '').split(':');
    if (name !== metric || rest.length > 0 || value?.length !== 1 || !values.includes(value)) {
      return `base metric ${i + 1} must be ${metric}:<${values.split('').join('|')}> (CVSS ${version}), found '${parts[i] ?? ''}'`;
    }
  }
  const extra = parts.slice(base.length);
  const seen = new Set(base.map(([m]) => m));
  for (const part of extra) {
    const m = /^([A-Za-z]{1,3}):([A-Za-z])$/.exec(part);
    if (!m || seen.has(m[1]!)) return `'${part}' is not a further metric of its own`;
    seen.add(m[1]!);
  }
  return undefined;
}

export const cvssSchema = z
  .string()
  .max(256)
  .superRefine((v, ctx) => {
    const problem = cvssProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: `not a CVSS vector: ${problem}` });
  });

/** A node-semver range (`<1.4.2`, `>=2.0.0 <2.3.1 || 3.0.0`); `*` is spelled out, never implied. */
export const versionRangeSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((r) => validRange(r, { includePrerelease: true }) !== null, 'not a semver range (for example <1.4.2 or >=2.0.0 <2.3.1)');

/**
 * An advisory names a package by purl without a version (the range says which versions), kept in
 * the form SBOM packages are stored in, so that the two compare as text; parsed once.
 */
function packageOfPurl(purl: string, ctx: z.RefinementCtx): string {
  try {
    const p = parsePurl(purl);
    if (p.version) ctx.addIssue({ code: 'custom', message: `give the package without a version (${packageName(p)}) and the versions as a range` });
    return packageName(p);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a purl: ${(err as Error).message}` });
    return z.NEVER;
  }
}

/**
 * What an advisory affects, one of three forms: versions of one app by range (`app`, `versions`),
 * artifacts by digest (`digests`: the OCI manifest digest devices pull by, or the component's
 * own), or a package in the versions' SBOMs by purl and range (`purl`, `versions`). One object
 * with a check, not a union, so that a mistake is named by its field.
 */
export const affectedSchema = z
  .strictObject({
    app: appIdSchema.optional(),
    digests: z.array(digestSchema).min(1).max(1024).optional(),
    purl: z.string().min(5).max(1024).transform(packageOfPurl).optional(),
    versions: versionRangeSchema.optional(),
  })
  .superRefine((a, ctx) => {
    const forms = (['app', 'digests', 'purl'] as const).filter((k) => a[k] !== undefined);
    if (forms.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `give exactly one of app, digests or purl (found ${forms.length === 0 ? 'none' : forms.join(', ')})` });
      return;
    }
    if (a.digests && a.versions !== undefined)
      ctx.addIssue({ code: 'custom', path: ['versions'], message: 'digests name artifacts exactly: no version range with them' });
    if (!a.digests && a.versions === undefined) ctx.addIssue({ code: 'custom', path: ['versions'], message: `a version range is required with ${forms[0]}` });
  });
export type Affected = z.output<typeof affectedSchema>;

/**
 * A digest the device must never start, and the advisories that say so: carried in each signed
 * deployment document of an affected app (`x-berth-extensions.refusedDigests`), kept with the
 * adopted state, and honoured offline and by the last-known-good fallback.
 */
export const refusedDigestSchema = z.strictObject({
  digest: digestSchema,
  advisories: z.array(advisoryIdSchema).min(1).max(64),
});
export type RefusedDigest = { digest: Digest; advisories: string[] };
/** At most this many refused digests ride in one deployment document. */
export const MAX_REFUSED_DIGESTS = 1024;

/**
 * GET /api/v1/advisories/{id}/exposure as JSON (orchestrator/advisories/exposure.ts ExposureReport):
 * which devices ran an affected version, and when. `berth advisory exposure --csv` reads it.
 */
export const exposureReportShown = z.object({
  advisory: z.string(),
  generatedAt: z.string(),
  groupBy: z.string(),
  devices: z.array(
    z.object({
      deviceId: z.string(),
      group: z.string().nullable(),
      offlineSince: z.string().nullable(),
      deployments: z.array(
        z.object({
          deploymentId: z.string(),
          app: z.string(),
          exposed: z.array(z.object({ version: z.string(), digest: z.string().nullable(), from: z.string(), to: z.string().nullable() })),
          now: z.object({
            state: z.enum(['running-affected', 'running-unaffected', 'stopped-by-advisory', 'failed', 'removed']),
            version: z.string(),
            since: z.string(),
            code: z.string().optional(),
          }),
        }),
      ),
    }),
  ),
  groups: z.array(z.object({ group: z.string().nullable(), devices: z.number().int(), exposedNow: z.number().int() })),
});
export type ExposureReportShown = z.output<typeof exposureReportShown>;
