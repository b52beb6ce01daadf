import { z } from 'zod';
import { ADVISORY_ACTIONS, advisoryIdSchema, affectedSchema, cvssSchema, SEVERITIES } from '../../wire/advisory.js';
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
