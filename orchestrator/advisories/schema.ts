import { z } from 'zod';
import { ADVISORY_ACTIONS, advisoryIdSchema, affectedSchema, cvssSchema, SEVERITIES } from '../../wire/advisory.js';
import { justificationSchema, VEX_STATUSES, vexStatementSchema } from '../../wire/vex.js';
import { storable } from '../catalog/schema.js';

const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((t) => storable(t), 'must not contain U+0000 (NUL)');

/** POST /api/v1/advisories (docs/vulnerability-response.md). */
export const advisoryBody = z.strictObject({
  id: advisoryIdSchema,
  summary: text(2000),
  severity: z.enum(SEVERITIES),
  /** A CVSS v3.x or v4.0 vector, kept as given; the severity is the filer's call. */
  cvss: cvssSchema.optional(),
  affected: z.array(affectedSchema).min(1).max(64),
  action: z.enum(ADVISORY_ACTIONS),
  references: z
    .array(text(1000).regex(/^https:\/\/[^\s]+$/, 'a reference is an https URL'))
    .max(16)
    .default([]),
});
export type AdvisoryBody = z.output<typeof advisoryBody>;

/** GET /api/v1/advisories/{id}/exposure: grouped by a device label, as JSON or CSV. */
export const exposureQuery = z.object({
  groupBy: z
    .string()
    .regex(/^[A-Za-z0-9._/-]{1,63}$/, 'a label name')
    .default('site'),
  format: z.enum(['json', 'csv']).default('json'),
});

/** GET /api/v1/advisories/{id}/vex: the advisory's VEX statements in one of these forms. */
export const vexExportQuery = z.object({ format: z.enum(['openvex', 'cyclonedx', 'berth']).default('openvex') });

/** PUT /api/v1/advisories/{id}/vex: statements about this advisory, all or none. */
export const vexBody = z.strictObject({ statements: z.array(vexStatementSchema).min(1).max(1000) });

/** POST /api/v1/vex: an OpenVEX or CycloneDX VEX document, read by advisories/vex.ts (statementsOfDocument). */
export const vexDocumentBody = z.unknown().describe('An OpenVEX or CycloneDX VEX document');

/** An advisory as the API shows it (advisories/service.ts AdvisoryView as JSON). */
export const advisoryShown = z.object({
  id: z.string(),
  summary: z.string(),
  severity: z.enum(SEVERITIES),
  cvss: z.string().nullable(),
  affected: z.array(z.record(z.string(), z.unknown()).describe('As filed (wire/advisory.ts affectedSchema)')),
  action: z.enum(ADVISORY_ACTIONS),
  references: z.array(z.string()),
  vendor: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  notAffected: z.array(z.string()).describe('`app@version` of each version a VEX statement exempts'),
  affectedVersions: z.array(z.object({ app: z.string(), version: z.string(), digest: z.string() })),
});
export const advisoriesListed = z.object({ advisories: z.array(advisoryShown) });
/** What filing did: deployments moved to an unaffected version, and those whose devices now stop the app. */
export const advisoryCreated = advisoryShown.extend({
  moved: z.array(z.record(z.string(), z.unknown())),
  stopped: z.array(z.record(z.string(), z.unknown())),
});

/** PUT /api/v1/advisories/{id}/vex and POST /api/v1/vex: the statements recorded (advisories/vex.ts StatedVex). */
export const vexStated = z.object({
  statements: z.array(
    z.object({
      advisoryId: z.string(),
      app: z.string(),
      version: z.string(),
      status: z.enum(VEX_STATUSES),
      justification: justificationSchema.optional(),
      detail: z.string().optional(),
    }),
  ),
});
