import type { DeploymentChange } from './reconciler.js';
import type { StatusReport } from './status-queue.js';

/**
 * The bounds of a status report's error fields in the device API's schema (wire/margo/status.ts).
 * A report over them would be refused for good and its news lost, so they are cut here, once,
 * whatever produced the error (a trap message can be as long as the guest likes).
 */
const ERROR_FIELD_MAX = { code: 256, source: 256, message: 4096 } as const;

/** At most `max` UTF-16 units, never ending inside a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]!) ? max - 1 : max;
  return text.slice(0, end);
}

function boundedError(e: NonNullable<DeploymentChange['error']>): NonNullable<DeploymentChange['error']> {
  return { code: cutText(e.code, ERROR_FIELD_MAX.code), source: cutText(e.source, ERROR_FIELD_MAX.source), message: cutText(e.message, ERROR_FIELD_MAX.message) };
}

/** The Margo DeploymentStatusManifest the agent sends for one reconciler change. */
export function statusReportOf(c: DeploymentChange, deviceId: string, adoptedManifestVersion: number): StatusReport {
  const error = c.error && boundedError(c.error);
  return {
    deploymentId: c.deploymentId,
    deviceId,
    adoptedManifestVersion,
    status: { state: c.state, ...(error ? { error } : {}) },
    components: [{ name: c.app, state: c.state, ...(error ? { error } : {}) }],
    'x-berth-extensions': { version: c.version, ...(c.usage ? { usage: c.usage } : {}) },
  };
}
