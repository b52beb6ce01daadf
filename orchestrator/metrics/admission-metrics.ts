import { Counter, Histogram, type Registry } from 'prom-client';
import type { AdmissionObserver } from '../catalog/artifact-admission.js';

/** Admission pulls and verifies over the network: up to its 120 s bound. */
const ADMISSION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * Admissions of new versions and re-checks of stored ones (docs/admission.md), counted by this
 * replica as they happen. `code` is the refusal's stable code, empty when admitted: a fixed set
 * (docs/admission.md lists it), so the label stays bounded.
 */
export function admissionMetrics(registry: Registry): AdmissionObserver {
  const admissions = new Counter({
    name: 'berth_artifact_admissions_total',
    help: "Admissions of a new version's artifact, by result (admitted, refused) and refusal code.",
    labelNames: ['result', 'code'],
    registers: [registry],
  });
  const admissionSeconds = new Histogram({
    name: 'berth_artifact_admission_duration_seconds',
    help: "Time to resolve, pull, verify and mirror a new version's artifact, by result.",
    labelNames: ['result'],
    buckets: ADMISSION_BUCKETS,
    registers: [registry],
  });
  const rechecks = new Counter({
    name: 'berth_artifact_verifications_total',
    help: "Re-checks of a stored version's artifact against its vendor's current policy (deployments, rollouts, rollbacks), by result (unchanged, verified, refused) and refusal code.",
    labelNames: ['result', 'code'],
    registers: [registry],
  });
  return {
    admission({ result, code, seconds }) {
      admissions.inc({ result, code: code ?? '' });
      admissionSeconds.observe({ result }, seconds);
    },
    recheck({ result, code }) {
      rechecks.inc({ result, code: code ?? '' });
    },
  };
}
