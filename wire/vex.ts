import { z } from 'zod';
import { appIdSchema, versionSchema } from './ids.js';

/**
 * VEX: a vendor's statement, per advisory and version, of whether the version is affected.
 * Statuses are OpenVEX's (v0.2.0); justifications come from either vocabulary, OpenVEX's or
 * CycloneDX 1.6's `analysis.justification`, and are mapped when a document is written in the other.
 */
export const VEX_STATUSES = ['not_affected', 'affected', 'fixed', 'under_investigation'] as const;
export type VexStatus = (typeof VEX_STATUSES)[number];

export const OPENVEX_JUSTIFICATIONS = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
] as const;

export const CYCLONEDX_JUSTIFICATIONS = [
  'code_not_present',
  'code_not_reachable',
  'requires_configuration',
  'requires_dependency',
  'requires_environment',
  'protected_by_compiler',
  'protected_at_runtime',
  'protected_at_perimeter',
  'protected_by_mitigating_control',
] as const;

export type Justification = (typeof OPENVEX_JUSTIFICATIONS)[number] | (typeof CYCLONEDX_JUSTIFICATIONS)[number];
export const justificationSchema = z.enum([...OPENVEX_JUSTIFICATIONS, ...CYCLONEDX_JUSTIFICATIONS]);

/** The nearest OpenVEX justification for a CycloneDX one (CISA's "Minimum Requirements for VEX" pairs them this way). */
const TO_OPENVEX: Record<(typeof CYCLONEDX_JUSTIFICATIONS)[number], (typeof OPENVEX_JUSTIFICATIONS)[number]> = {
  code_not_present: 'vulnerable_code_not_present',
  code_not_reachable: 'vulnerable_code_not_in_execute_path',
  requires_configuration: 'vulnerable_code_cannot_be_controlled_by_adversary',
  requires_dependency: 'component_not_present',
  requires_environment: 'vulnerable_code_cannot_be_controlled_by_adversary',
  protected_by_compiler: 'inline_mitigations_already_exist',
  protected_at_runtime: 'inline_mitigations_already_exist',
  protected_at_perimeter: 'inline_mitigations_already_exist',
  protected_by_mitigating_control: 'inline_mitigations_already_exist',
};
const TO_CYCLONEDX: Record<(typeof OPENVEX_JUSTIFICATIONS)[number], (typeof CYCLONEDX_JUSTIFICATIONS)[number]> = {
  component_not_present: 'code_not_present',
  vulnerable_code_not_present: 'code_not_present',
  vulnerable_code_not_in_execute_path: 'code_not_reachable',
  vulnerable_code_cannot_be_controlled_by_adversary: 'requires_environment',
  inline_mitigations_already_exist: 'protected_by_mitigating_control',
};

export function openVexJustification(j: Justification): (typeof OPENVEX_JUSTIFICATIONS)[number] {
  return (OPENVEX_JUSTIFICATIONS as readonly string[]).includes(j) ? (j as (typeof OPENVEX_JUSTIFICATIONS)[number]) : TO_OPENVEX[j as keyof typeof TO_OPENVEX];
}
export function cycloneDxJustification(j: Justification): (typeof CYCLONEDX_JUSTIFICATIONS)[number] {
  return (CYCLONEDX_JUSTIFICATIONS as readonly string[]).includes(j)
    ? (j as (typeof CYCLONEDX_JUSTIFICATIONS)[number])
    : TO_CYCLONEDX[j as keyof typeof TO_CYCLONEDX];
}

/** CycloneDX `analysis.state` for a status, and back (`false_positive` reads as not affected, `resolved_with_pedigree` as fixed). */
export const CYCLONEDX_STATE: Record<VexStatus, string> = {
  not_affected: 'not_affected',
  affected: 'exploitable',
  fixed: 'resolved',
  under_investigation: 'in_triage',
};
export const STATUS_OF_CYCLONEDX_STATE: Record<string, VexStatus> = {
  not_affected: 'not_affected',
  false_positive: 'not_affected',
  exploitable: 'affected',
  resolved: 'fixed',
  resolved_with_pedigree: 'fixed',
  in_triage: 'under_investigation',
};

/** One statement as Berth keeps it: about one admitted version of one app. */
export const vexStatementSchema = z
  .strictObject({
    app: appIdSchema,
    version: versionSchema,
    status: z.enum(VEX_STATUSES),
    justification: justificationSchema.optional(),
    /** OpenVEX's impact_statement, CycloneDX's analysis.detail: free text. */
    detail: z.string().min(1).max(2000).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.status === 'not_affected' && !s.justification)
      ctx.addIssue({ code: 'custom', path: ['justification'], message: 'not_affected needs a justification (OpenVEX or CycloneDX vocabulary)' });
    if (s.status !== 'not_affected' && s.justification)
      ctx.addIssue({ code: 'custom', path: ['justification'], message: 'only not_affected takes a justification' });
  });
export type VexStatement = z.output<typeof vexStatementSchema>;
