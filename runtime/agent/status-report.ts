import { toWellFormed, truncateText } from '../../common/text.js';
import { STATUS_ERROR_FIELD_MAX } from '../../wire/margo/status.js';
import type { DeploymentChange } from './reconciler.js';
import type { StatusReport } from './status-queue.js';

/**
 * A report over the device API's bounds (wire/margo/status.ts) would be refused for good and its
 * news lost, so its error fields are cut here, once, whatever produced the error (a trap message
 * can be as long as the guest likes), and made well-formed.
 */
const cut = (text: string, max: number): string => toWellFormed(truncateText(text, max));

function boundedError(e: NonNullable<DeploymentChange['error']>): NonNullable<DeploymentChange['error']> {
  return {
    code: cut(e.code, STATUS_ERROR_FIELD_MAX.code),
    source: cut(e.source, STATUS_ERROR_FIELD_MAX.source),
    message: cut(e.message, STATUS_ERROR_FIELD_MAX.message),
  };
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
    'x-berth-extensions': { version: c.version, ...(c.usage ? { usage: c.usage } : {}), ...(c.rollback ? { rollback: c.rollback } : {}) },
  };
}
